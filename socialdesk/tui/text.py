"""Customer text made safe to draw, and the short labels the lists use."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich.text import Text

from socialdesk.privacy.mask import mask_text
from socialdesk.store.models import Status

if TYPE_CHECKING:
    from socialdesk.privacy.detect import Detector

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""C0/C1 controls (ESC starts terminal escapes) and bidi overrides (they can reverse what
an operator reads). Newline and tab stay; every other control is drawn as a visible mark."""

STATUS_COLOURS: dict[Status, str] = {
    Status.NEW: "red", Status.OPEN: "yellow", Status.RESOLVED: "green"}
"""Red just arrived, yellow being solved, green solved (seed 004)."""


def visible_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ for ESC
    return "\ufffd"


def safe(text: str) -> str:
    """`text` with every control character replaced by a visible mark."""
    return _CONTROL.sub(visible_control, text)


def safe_line(text: str) -> str:
    """One line for a list cell: whitespace runs collapsed, controls made visible."""
    return safe(" ".join(text.split()))


PREVIEW_SCAN_CHARS = 400
"""A one-line preview shows far less; scanning more only costs time."""


def masked_preview(text: str, detector: Detector) -> str:
    """A message as one list line, personal data masked: the queue and the history list."""
    head = text[:PREVIEW_SCAN_CHARS]
    return safe_line(mask_text(head, detector.scan(head)))


def plain(text: str, style: str = "") -> Text:
    """Customer text as a Rich `Text`: never parsed as markup, controls made visible."""
    return Text(safe(text), style=style)


def short_duration(span: timedelta) -> str:
    """`45s`, `12m`, `3h`, `4d`: how long a customer has waited, at a glance."""
    seconds = max(0, int(span.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def waiting_since(status: str, last_inbound: datetime | None,
                  last_outbound: datetime | None) -> datetime | None:
    """When the customer's unanswered message came in, or None when nobody is waiting."""
    if status == Status.RESOLVED or last_inbound is None:
        return None
    if last_outbound is not None and last_outbound >= last_inbound:
        return None
    return last_inbound


def sla_running(status: str, last_outbound: datetime | None,
                sla_started: datetime | None) -> bool:
    """The first-response clock still runs: unresolved and no answer since it started
    (`queries.overdue_clause`'s rule, short of the due time)."""
    if status == Status.RESOLVED:
        return False
    return last_outbound is None or (sla_started is not None and last_outbound < sla_started)


def due_label(due: datetime, now: datetime) -> tuple[str, bool]:
    """`in 2h` before the first-response due time, `+3h` past it; and whether it is past."""
    if due > now:
        return f"in {short_duration(due - now)}", False
    return f"+{short_duration(now - due)}", True


def local_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def day_time(moment: datetime | None) -> str:
    """`30 Nov 11:23`: short enough for the customer card's narrow column (UTC)."""
    return moment.strftime("%d %b %H:%M") if moment else "-"
