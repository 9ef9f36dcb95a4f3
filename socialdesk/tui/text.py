"""Customer text made safe to draw, and the short labels the lists use."""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text

from socialdesk.privacy.mask import safe
from socialdesk.store.models import Status

STATUS_COLOURS: dict[Status, str] = {
    Status.NEW: "red", Status.OPEN: "yellow", Status.RESOLVED: "green"}
"""Red just arrived, yellow being solved, green solved (seed 004)."""


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

