"""Where each stream of an account stands: its cursor, last success or error, and reset.

The cursor moves in the transaction of the page it covers (`advance_cursor`, called by
ingest), so a crash mid-walk resumes from the last stored page; the outcome of a walk is
written after it.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam
from sqlmodel import Session, select

from connectors.base import PullPage
from socialdesk.store.bulk import DIALECT_INSERT, dialect_name
from socialdesk.store.models import Account, SyncCursor
from socialdesk.store.tables import CURSOR


def advance_cursor(session: Session, account: Account, page: PullPage) -> None:
    """Write the cursor only when the page carries one: a walk's middle pages do not."""
    if page.cursor is None:
        return
    session.connection().execute(
        _cursor_upsert(dialect_name(session)),
        {"account_id": account.id, "stream": page.stream, "cursor": page.cursor},
    )


@functools.cache
def _cursor_upsert(dialect: str) -> Any:
    statement = DIALECT_INSERT[dialect](CURSOR).values(
        account_id=bindparam("account_id"), stream=bindparam("stream"),
        cursor=bindparam("cursor"),
    )
    return statement.on_conflict_do_update(
        index_elements=["account_id", "stream"], set_={"cursor": statement.excluded.cursor}
    )


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
