"""What `socialdesk reply` and `socialdesk outbox` do, between parsing and printing."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from socialdesk.clock import system_clock
from socialdesk.config import load_settings
from socialdesk.desk import answers, outbox, outbox_review
from socialdesk.store.db import open_configured_store
from socialdesk.store.models import OutboxAction, OutboxState

SETTLED_BADLY = (OutboxState.FAILED, OutboxState.UNKNOWN)


def run_reply(
    config_path: Path, conversation_id: int, text: str, initials: str | None, out: TextIO
) -> int:
    """Queue the answer and send it at once; exit 1 when it ended failed or unknown.
    `initials` (`--as`) default to `[operator] initials`."""
    settings = load_settings(config_path)
    operator = settings.operator.for_session(initials).initials
    engine = open_configured_store(settings)
    queued = answers.reply(engine, conversation_id, text, operator, settings=settings,
                         now=system_clock)
    if queued.state == OutboxState.PENDING:
        queued = outbox.send_now(engine, settings, queued.id or 0, now=system_clock)
    print(describe(queued), file=out)
    return 1 if queued.state in SETTLED_BADLY else 0


def run_outbox_list(config_path: Path, states: tuple[str, ...], out: TextIO) -> int:
    settings = load_settings(config_path)
    engine = open_configured_store(settings)
    actions = outbox_review.list_actions(engine, states or None)
    print("id\tstate\tplatform\tkind\tattempts\tby\tcreated_at\tplatform_id\tlast_error", file=out)
    for action in actions:
        print("\t".join([
            str(action.id), action.state, action.platform, action.kind, str(action.attempts),
            action.requested_by, action.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            action.external_id or "", (action.last_error or "").replace("\t", " ")[:300],
        ]), file=out)
    return len(actions)


def run_outbox_retry(
    config_path: Path, action_id: int, initials: str | None, checked: bool, out: TextIO
) -> int:
    """Back to pending (an unknown one is looked for first), then sent at once.
    `initials` (`--as`) default to `[operator] initials`."""
    settings = load_settings(config_path)
    operator = settings.operator.for_session(initials).initials
    engine = open_configured_store(settings)
    action = outbox_review.retry(engine, settings, action_id, operator, checked, now=system_clock)
    if action.state == OutboxState.PENDING:
        action = outbox.send_now(engine, settings, action_id, now=system_clock)
    print(describe(action), file=out)
    return 1 if action.state in SETTLED_BADLY else 0


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
