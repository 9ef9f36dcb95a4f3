"""The operator's hand on the outbox: the list of actions, and retrying one that failed or
whose fate is unknown (`socialdesk outbox`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from socialdesk.clock import Clock
from socialdesk.config import Settings
from socialdesk.desk.outbox import account_connector
from socialdesk.desk.outbox_queue import OutboxError
from socialdesk.desk.outbox_state import load_action, reconcile, transition
from socialdesk.store.models import AuditEntry, OutboxAction, OutboxState


def list_actions(
    engine: Engine, states: Iterable[str] | None = None, limit: int = 100
) -> list[OutboxAction]:
    """Newest first."""
    with Session(engine, expire_on_commit=False) as session:
        statement = select(OutboxAction).order_by(col(OutboxAction.id).desc()).limit(limit)
        if states:
            statement = statement.where(col(OutboxAction.state).in_(list(states)))
        return list(session.exec(statement).all())


def retry(
    engine: Engine, settings: Settings, action_id: int, operator: str, checked: bool,
    *, now: Clock,
) -> OutboxAction:
    """Put a `failed` or `unknown` action back to `pending`, audited.

    An `unknown` one needs `checked` (a human looked at the platform), and is looked for
    once more first: found means `sent`, and nothing is resent.
    """
    row = load_action(engine, action_id)
    if row.state not in (OutboxState.FAILED.value, OutboxState.UNKNOWN.value):
        raise OutboxError(f"outbox action {action_id} is {row.state}: only failed or unknown "
                          "actions can be retried")
    if row.state == OutboxState.UNKNOWN.value:
        if not checked:
            raise OutboxError(
                f"outbox action {action_id} may already have gone out: check the platform, "
                "then confirm with --yes"
            )
        connector = account_connector(engine, settings, row.account_id, now)
        if connector is not None:
            row = reconcile(engine, settings, row, connector, now())
        if row.state == OutboxState.SENT.value:
            _audit_retry(engine, row, operator, "found on the platform; not resent", now())
            return row
    moment = now()
    with Session(engine) as session:
        transition(session, action_id, (OutboxState.FAILED, OutboxState.UNKNOWN),
                    OutboxState.PENDING, moment, attempts=0, next_attempt_at=None)
        session.add(_retry_entry(row, operator, f"was {row.state}", moment))
        session.commit()
    return load_action(engine, action_id)


def _audit_retry(
    engine: Engine, row: OutboxAction, operator: str, outcome: str, at: datetime
) -> None:
    with Session(engine) as session:
        session.add(_retry_entry(row, operator, outcome, at))
        session.commit()


def _retry_entry(row: OutboxAction, operator: str, outcome: str, at: datetime) -> AuditEntry:
    return AuditEntry(at=at, actor=operator, action="outbox.retry", target_type="outbox_action",
                      target_id=str(row.id), detail={"kind": row.kind, "outcome": outcome})
