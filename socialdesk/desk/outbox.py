"""Sends every outgoing action once, or says plainly that it cannot tell whether it went out.

Each action is a row first (`pending`), claimed by one dispatcher at a time (`sending`), and
ends `sent` (recorded with its outbound message in one transaction), `failed` (the platform
refused, or retries ran out) or `unknown` (the request may have been performed and the
platform does not show it). An `unknown` action is never resent without a human.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from connectors.base import (
    ActionKind,
    AuthExpired,
    Connector,
    ConnectorError,
    FatalAPIError,
    RateLimited,
    RetriableAPIError,
    SendOutcomeUnknown,
)
from socialdesk.clock import Clock
from socialdesk.config import Settings
from socialdesk.desk.outbox_queue import OutboxError
from socialdesk.desk.outbox_state import (
    load_action,
    outbound_action,
    reconcile,
    record_sent,
    transition,
)
from socialdesk.errors import AccountSyncError, SocialdeskError
from socialdesk.platforms.registry import build_connector
from socialdesk.store import lease
from socialdesk.store.models import Account, OutboxAction, OutboxState

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=15)
INLINE_WAIT = timedelta(seconds=30)
"""`send_now` waits this long at most for a retry; later ones are left to the next sync."""


@dataclass
class DispatchReport:
    """What one pass did, per final state; `errors` are accounts that could not send at all."""

    actions: list[OutboxAction] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def count(self, state: OutboxState) -> int:
        return sum(1 for action in self.actions if action.state == state.value)


@dataclass
class _Dispatcher:
    engine: Engine
    settings: Settings
    now: Clock
    owner: str = field(default_factory=lease.new_owner_id)
    """host:pid:start:random, so a claim left by a process that died on this host is seen."""
    connectors: dict[int, Connector] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def connector(self, account_id: int) -> Connector | None:
        """The account's connector, built once per pass; None (and an error) if it cannot be."""
        if account_id not in self.connectors:
            with Session(self.engine) as session:
                account = session.get(Account, account_id)
            if account is None:
                return None
            try:
                self.connectors[account_id] = build_connector(self.settings.account(account.name))
            except AccountSyncError as error:
                self.errors.append(error.message)
                return None
            except SocialdeskError as error:
                self.errors.append(f"{account.name}: {error.message}")
                return None
        return self.connectors[account_id]


def dispatch_due(
    engine: Engine,
    settings: Settings,
    account_names: Iterable[str] | None = None,
    *,
    now: Clock,
    limit: int = 100,
) -> DispatchReport:
    """Recover actions a crash left `sending`, then send due `pending` ones, one at a time.

    One claim per send: a crash leaves at most one action in doubt.
    """
    dispatcher = _Dispatcher(engine, settings, now)
    account_ids = _account_ids(engine, account_names)
    report = DispatchReport()
    report.actions += recover_stale(dispatcher, account_ids)
    skipped: set[int] = set()
    while len(report.actions) < limit:
        claimed = _claim_next(dispatcher, account_ids, skipped)
        if claimed is None:
            break
        report.actions.append(_process(dispatcher, claimed))
    report.errors = dispatcher.errors
    return report


def send_now(
    engine: Engine, settings: Settings, action_id: int, *, now: Clock,
    sleep: Callable[[float], None] = time.sleep,
) -> OutboxAction:
    """Send one action at once, waiting for short retries; what state it ended in."""
    dispatcher = _Dispatcher(engine, settings, now)
    row = load_action(engine, action_id)
    while row.state == OutboxState.PENDING.value:
        wait = (row.next_attempt_at - now()).total_seconds() if row.next_attempt_at else 0.0
        if wait > INLINE_WAIT.total_seconds():
            break
        if wait > 0:
            sleep(wait)
        claimed = _claim(dispatcher, action_id)
        if claimed is None:
            break
        row = _process(dispatcher, claimed)
    if dispatcher.errors:
        raise OutboxError("; ".join(dispatcher.errors))
    return load_action(engine, action_id)


def account_connector(
    engine: Engine, settings: Settings, account_id: int, now: Clock
) -> Connector | None:
    """The account's connector for a single check outside a pass; None when it cannot be
    built (an unknown account, or a config the connector refuses)."""
    return _Dispatcher(engine, settings, now).connector(account_id)


def _account_ids(engine: Engine, names: Iterable[str] | None) -> list[int] | None:
    if names is None:
        return None
    with Session(engine) as session:
        rows = session.exec(select(Account.id).where(col(Account.name).in_(list(names)))).all()
    return [int(account_id) for account_id in rows if account_id is not None]


def _due(account_ids: list[int] | None, now: datetime, skipped: set[int]) -> Any:
    statement = select(OutboxAction).where(
        OutboxAction.state == OutboxState.PENDING.value,
        (col(OutboxAction.next_attempt_at).is_(None)) | (col(OutboxAction.next_attempt_at) <= now),
    )
    if account_ids is not None:
        statement = statement.where(col(OutboxAction.account_id).in_(account_ids))
    if skipped:
        statement = statement.where(col(OutboxAction.account_id).not_in(skipped))
    return statement.order_by(col(OutboxAction.id))


def _claim_next(
    dispatcher: _Dispatcher, account_ids: list[int] | None, skipped: set[int]
) -> OutboxAction | None:
    """The oldest due action, now `sending` and ours.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers take disjoint rows.
    SQLite drops `FOR UPDATE`: a compare-and-set on the state decides who won.
    """
    while True:
        with Session(dispatcher.engine) as session:
            statement = _due(account_ids, dispatcher.now(), skipped).limit(1)
            if session.get_bind().dialect.name == "postgresql":
                statement = statement.with_for_update(skip_locked=True)
            candidate = session.exec(statement).first()
            if candidate is None:
                return None
            if dispatcher.connector(candidate.account_id) is None:
                skipped.add(candidate.account_id)
                continue
            if _take(session, candidate.id or 0, dispatcher):
                session.commit()
                return load_action(dispatcher.engine, candidate.id or 0)


def _claim(dispatcher: _Dispatcher, action_id: int) -> OutboxAction | None:
    with Session(dispatcher.engine) as session:
        row = session.get(OutboxAction, action_id)
        if row is None or dispatcher.connector(row.account_id) is None:
            return None
        if not _take(session, action_id, dispatcher):
            return None
        session.commit()
    return load_action(dispatcher.engine, action_id)


def _take(session: Session, action_id: int, dispatcher: _Dispatcher) -> bool:
    """pending -> sending, counting the attempt; False when another dispatcher won."""
    moment = dispatcher.now()
    return transition(session, action_id, OutboxState.PENDING, OutboxState.SENDING, moment,
                       attempts=col(OutboxAction.attempts) + 1,
                       claimed_by=dispatcher.owner, claimed_at=moment)


def _process(dispatcher: _Dispatcher, row: OutboxAction) -> OutboxAction:
    """Send a claimed action and record what came of it."""
    connector = dispatcher.connector(row.account_id)
    assert connector is not None and row.id is not None
    action = outbound_action(row)
    try:
        receipt = connector.send(action)
    except RateLimited as limit:
        return _retry_later(dispatcher, row, str(limit), limit.reset_at)
    except RetriableAPIError as error:
        if row.kind == ActionKind.PRIVATE_REPLY.value:
            return _in_doubt(dispatcher, row, connector, str(error))
        return _retry_later(dispatcher, row, str(error), None)
    except SendOutcomeUnknown as error:
        return _in_doubt(dispatcher, row, connector, str(error))
    except (AuthExpired, FatalAPIError, ConnectorError) as error:
        return _finish(dispatcher, row, OutboxState.FAILED, str(error))
    return record_sent(dispatcher.engine, dispatcher.settings, row, receipt,
                       (OutboxState.SENDING,), dispatcher.now())



def backoff(settings: Settings, attempts: int) -> timedelta:
    """Doubling from `retry_base_seconds`, at most 15 minutes."""
    seconds = settings.outbox.retry_base_seconds * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def _retry_later(
    dispatcher: _Dispatcher, row: OutboxAction, error: str, not_before: datetime | None
) -> OutboxAction:
    """Nothing was sent: back to `pending` after a backoff, or `failed` when attempts ran out."""
    if row.attempts >= dispatcher.settings.outbox.max_attempts:
        return _finish(dispatcher, row, OutboxState.FAILED,
                       f"gave up after {row.attempts} attempts: {error}")
    due = dispatcher.now() + backoff(dispatcher.settings, row.attempts)
    if not_before is not None and not_before > due:
        due = not_before
    with Session(dispatcher.engine) as session:
        transition(session, row.id or 0, OutboxState.SENDING, OutboxState.PENDING,
                    dispatcher.now(), last_error=error, next_attempt_at=due, claimed_by=None)
        session.commit()
    return load_action(dispatcher.engine, row.id or 0)


def _finish(
    dispatcher: _Dispatcher, row: OutboxAction, state: OutboxState, error: str,
    expected: tuple[OutboxState, ...] = (OutboxState.SENDING,),
) -> OutboxAction:
    with Session(dispatcher.engine) as session:
        transition(session, row.id or 0, expected, state, dispatcher.now(), last_error=error,
                    claimed_by=None)
        session.commit()
    log.info("outbox action %s %s: %s", row.id, state.value, error)
    return load_action(dispatcher.engine, row.id or 0)


def _in_doubt(
    dispatcher: _Dispatcher, row: OutboxAction, connector: Connector, error: str,
    expected: tuple[OutboxState, ...] = (OutboxState.SENDING,),
) -> OutboxAction:
    """The action may have happened: a hide is simply done again; anything else is
    `unknown` and looked for on the platform, never resent."""
    if ActionKind(row.kind).idempotent:
        return _retry_later(dispatcher, row, error, None)
    row = _finish(dispatcher, row, OutboxState.UNKNOWN, error, expected)
    return reconcile(dispatcher.engine, dispatcher.settings, row, connector, dispatcher.now())


def recover_stale(
    dispatcher: _Dispatcher, account_ids: list[int] | None
) -> list[OutboxAction]:
    """Actions left `sending` by a crash become `unknown` and are looked for on the platform.

    A claim is stale after `stale_sending_seconds`, or at once when its claimer was a process
    on this host that is gone (killed, a zombie, its pid reused): waiting would only leave
    the customer's answer, or a privacy redirect, in doubt for longer.
    """
    cutoff = dispatcher.now() - timedelta(seconds=dispatcher.settings.outbox.stale_sending_seconds)
    with Session(dispatcher.engine) as session:
        statement = select(OutboxAction).where(OutboxAction.state == OutboxState.SENDING.value)
        if account_ids is not None:
            statement = statement.where(col(OutboxAction.account_id).in_(account_ids))
        stale = [row for row in session.exec(statement).all()
                 if (row.claimed_at is not None and row.claimed_at < cutoff)
                 or (row.claimed_by is not None and lease.is_dead_local_holder(row.claimed_by))]
    recovered = []
    for row in stale:
        connector = dispatcher.connector(row.account_id)
        if connector is None:
            continue
        error = (f"interrupted while sending (claimed {row.claimed_at:%Y-%m-%d %H:%M:%S} UTC); "
                 "it may have gone out")
        recovered.append(_in_doubt(dispatcher, row, connector, error))
    return recovered
