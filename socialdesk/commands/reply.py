"""What `socialdesk reply` and `socialdesk outbox` do, between parsing and printing."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from socialdesk.clock import system_clock
from socialdesk.config import Settings, load_settings
from socialdesk.desk import answers, outbox, outbox_review
from socialdesk.desk.outbox_state import load_action
from socialdesk.store.db import open_configured_store
from socialdesk.store.models import OutboxAction, OutboxState

SETTLED_BADLY = (OutboxState.FAILED, OutboxState.UNKNOWN)


def run_reply(
    config_path: Path, conversation_id: int, text: str, initials: str | None, out: TextIO,
    err: TextIO | None = None,
) -> int:
    """Queue the answer and send it at once; exit 1 when it ended failed or unknown.
    `initials` (`--as`) default to `[operator] initials`; each wait for a retry is told on
    `err` (stderr)."""
    settings = load_settings(config_path)
    operator = settings.operator.for_session(initials).initials
    engine = open_configured_store(settings)
    queued = answers.reply(engine, conversation_id, text, operator, settings=settings,
                         now=system_clock)
    if queued.state == OutboxState.PENDING:
        action_id = queued.id or 0
        queued = outbox.send_now(engine, settings, action_id, now=system_clock,
                                 sleep=retry_notice(engine, settings, action_id, err))
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
