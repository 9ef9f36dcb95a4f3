"""What `socialdesk reply` and `socialdesk outbox` do, between parsing and printing."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sqlalchemy import Engine

from socialdesk.clock import system_clock
from socialdesk.config import Settings, load_settings
from socialdesk.desk import answers, outbox, outbox_review
from socialdesk.desk.outbox_state import load_action
from socialdesk.privacy.mask import masked_preview
from socialdesk.store.db import open_configured_store
from socialdesk.store.models import OutboxAction, OutboxState

if TYPE_CHECKING:
    from socialdesk.privacy.detect import Detector

SETTLED_BADLY = (OutboxState.FAILED, OutboxState.UNKNOWN)


def run_reply(
    config_path: Path, conversation_id: int, text: str, initials: str | None, out: TextIO,
    err: TextIO | None = None, *, public_anyway: bool = False,
) -> int:
    """Queue the answer and send it at once; exit 1 when it ended failed or unknown.
    `initials` (`--as`) default to `[operator] initials`; each wait for a retry is told on
    `err` (stderr). A public answer where personal data waits for its redirect is refused
    (`PublicAnswerHeld`, exit 2) unless `public_anyway`."""
    settings = load_settings(config_path)
    operator = settings.operator.for_session(initials).initials
    engine = open_configured_store(settings)
    queued = answers.reply(engine, conversation_id, text, operator, settings=settings,
                           public_anyway=public_anyway, now=system_clock)
    if queued.state == OutboxState.PENDING:
        action_id = queued.id or 0
        queued = outbox.send_now(engine, settings, action_id, now=system_clock,
                                 sleep=retry_notice(engine, settings, action_id, err))
    print(describe(queued), file=out)
    return 1 if queued.state in SETTLED_BADLY else 0


OUTBOX_COLUMNS = ("id", "conversation_id", "state", "platform", "kind", "attempts", "by",
                  "created_at", "platform_id", "preview", "last_error")
"""The fields of `socialdesk outbox`: the header of the tab-separated list and the keys of
its JSON objects."""

PREVIEW_CHARS = 60
"""Enough of an answer to recognise it in a list row (the desk's customer card shows as much)."""

LAST_ERROR_CHARS = 300


def run_outbox_list(
    config_path: Path, states: tuple[str, ...], as_json: bool, out: TextIO
) -> int:
    """Newest first, tab-separated or as one JSON array; returns how many were listed."""
    from socialdesk.sync import detector_for

    settings = load_settings(config_path)
    engine = open_configured_store(settings)
    detector = detector_for(settings)
    rows = [outbox_row(action, detector)
            for action in outbox_review.list_actions(engine, states or None)]
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False), file=out)
        return len(rows)
    print("\t".join(OUTBOX_COLUMNS), file=out)
    for row in rows:
        print("\t".join(tsv_cell(name, row[name]) for name in OUTBOX_COLUMNS), file=out)
    return len(rows)


def outbox_row(action: OutboxAction, detector: Detector) -> dict[str, object]:
    """One action as JSON-ready values: our ids as numbers, platform ids as text (an X id
    is beyond what a JSON reader keeps exact as a number), times ISO 8601 with the offset.
    The text is a one-line preview, personal data masked and controls made visible as the
    desk shows it; it is our answer, but a private reply can quote the customer's data."""
    preview = masked_preview(action.text or "", detector)
    if len(preview) > PREVIEW_CHARS:
        preview = preview[:PREVIEW_CHARS - 1] + "…"
    return {
        "id": action.id, "conversation_id": action.conversation_id,
        "state": action.state.value, "platform": action.platform, "kind": action.kind.value,
        "attempts": action.attempts, "by": action.requested_by,
        "created_at": _utc(action.created_at).isoformat(timespec="seconds"),
        "platform_id": action.external_id, "preview": preview,
        "last_error": action.last_error,
    }


def tsv_cell(name: str, value: object) -> str:
    """A value as the tab-separated list has always shown it: times with `Z`, no tabs, the
    last error cut short."""
    if value is None:
        return ""
    text = str(value)
    if name == "created_at":
        return text.replace("+00:00", "Z")
    if name == "last_error":
        return text.replace("\t", " ")[:LAST_ERROR_CHARS]
    return text.replace("\t", " ")


def _utc(moment: datetime) -> datetime:
    """Stored times are UTC; SQLite hands them back without the offset."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def run_outbox_retry(
    config_path: Path, action_id: int, initials: str | None, checked: bool, out: TextIO,
    err: TextIO | None = None,
) -> int:
    """Back to pending (an unknown one is looked for first), then sent at once.
    `initials` (`--as`) default to `[operator] initials`; waits are told as `reply` tells them."""
    settings = load_settings(config_path)
    operator = settings.operator.for_session(initials).initials
    engine = open_configured_store(settings)
    action = outbox_review.retry(engine, settings, action_id, operator, checked, now=system_clock)
    if action.state == OutboxState.PENDING:
        action = outbox.send_now(engine, settings, action_id, now=system_clock,
                                 sleep=retry_notice(engine, settings, action_id, err))
    print(describe(action), file=out)
    return 1 if action.state in SETTLED_BADLY else 0


def retry_notice(
    engine: Engine, settings: Settings, action_id: int, err: TextIO | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[float], None]:
    """`send_now`'s wait, said first on one stderr line: "outbox action 7: X 503 …; retrying
    in 2 s (attempt 2 of 4)". A send that waits up to 30 s without a word looks hung."""

    def wait(seconds: float) -> None:
        action = load_action(engine, action_id)
        reason = f": {action.last_error}" if action.last_error else ""
        print(f"outbox action {action_id}{reason}; retrying in {seconds:.2g} s "
              f"(attempt {action.attempts + 1} of {settings.outbox.max_attempts})",
              file=err or sys.stderr, flush=True)
        sleep(seconds)

    return wait


def describe(action: OutboxAction) -> str:
    """One line: id, state, what, the platform id or why not."""
    text = f"outbox action {action.id}: {action.state} ({action.platform} {action.kind})"
    if action.external_id:
        text += f", platform id {action.external_id}"
    if action.state == OutboxState.PENDING and action.next_attempt_at:
        text += f", next attempt {action.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
    if action.state != OutboxState.SENT and action.last_error:
        text += f": {action.last_error}"
    return text
