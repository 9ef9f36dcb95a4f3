"""Where each stream of an account stands: its cursor, last success or error, and reset.

The cursor moves in the transaction of the page it covers (`advance_cursor`, called by
ingest), so a crash mid-walk resumes from the last stored page; the outcome of a walk is
written after it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from connectors.base import PullPage
from socialdesk.store.driver import Driver
from socialdesk.store.models import Account, SyncCursor


def advance_cursor(driver: Driver, account: Account, page: PullPage) -> None:
    """Write the cursor only when the page carries one: a walk's middle pages do not. With
    the page's other last writes (`Driver.later`)."""
    if page.cursor is None:
        return
    mark = driver.mark
    driver.later(f"INSERT INTO sync_cursor (account_id, stream, cursor) "
                 f"VALUES ({mark}, {mark}, {mark}) "
                 "ON CONFLICT (account_id, stream) DO UPDATE SET cursor = excluded.cursor",
                 (account.id, page.stream, page.cursor))


def cursor_row(session: Session, account: Account, stream: str) -> SyncCursor:
    """The stream's stored state, or a new unsaved one for a stream never pulled."""
    row = session.exec(
        select(SyncCursor).where(SyncCursor.account_id == account.id, SyncCursor.stream == stream)
    ).first()
    return row or SyncCursor(account_id=account.id or 0, stream=stream)


def record_stream_success(
    session: Session, account: Account, stream: str, *, now: datetime,
    rate_limited_until: datetime | None, rate_budget: str | None,
) -> None:
    """A walk that ended without error; one that spent its budget waits for the reset."""
    row = cursor_row(session, account, stream)
    row.last_success_at = now
    row.last_error = None
    row.rate_limited_until = rate_limited_until
    if rate_budget is not None:
        row.rate_budget = rate_budget
    session.add(row)
    session.commit()


def record_stream_failure(
    session: Session, account: Account, stream: str, error: str, until: datetime | None,
    now: datetime,
) -> None:
    """Roll back the failed walk's open page and keep why it failed, and until when."""
    session.rollback()
    row = cursor_row(session, account, stream)
    row.last_error = error
    row.last_error_at = now
    row.rate_limited_until = until
    session.add(row)
    session.commit()


def stream_states(engine: Engine) -> dict[tuple[str, str], SyncCursor]:
    """Every stream's stored state by (account name, stream): cursor, last success, reset."""
    with Session(engine, expire_on_commit=False) as session:
        rows = session.exec(
            select(Account.name, SyncCursor).where(SyncCursor.account_id == Account.id)
        ).all()
    return {(name, state.stream): state for name, state in rows}
