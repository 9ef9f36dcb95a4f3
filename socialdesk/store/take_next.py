"""Take-next: hand a desk the longest-waiting conversation nobody holds, and hold it.

Two desks taking at once never get the same conversation: the hold's primary key is the
conversation, and a hold is written over only when it no longer counts (lapsed, its desk
gone, or the taker's own), judged from the hold row the write has locked. On PostgreSQL
the candidate row is locked `FOR NO KEY UPDATE SKIP LOCKED` (the `FOR UPDATE` family's lock
that does not wait for, or block, the key-share locks of foreign keys), so desks taking at
once skip each other's candidates instead of queueing behind them, and the candidate, the
hold and the desk's presence are one statement. On SQLite the transaction writes first,
which takes the database's one writer lock for the whole take.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, exists, false, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from socialdesk.store.models import WAITING_FOR_ANSWER, Status
from socialdesk.store.queries.queue import InboxFilter, filter_statement
from socialdesk.store.queries.search import search_message_ids
from socialdesk.store.tables import ACCOUNT, CONVERSATION, HOLD, PRESENCE
from socialdesk.store.team_sql import (
    HOLD_SECONDS,
    PRESENCE_TTL_SECONDS,
    hold_is_live,
    seen_within,
    transaction,
    upsert_presence,
)
from socialdesk.store.team_sql import now as database_now

TAKE_ATTEMPTS = 50
"""Tries when another desk wins the race for the candidate. A try that loses means another
desk took one; the next try sees its hold. Desks crowding the same few rows lose a few
times in a row, never fifty."""
WAITING = (Status.NEW.value, Status.OPEN.value)


def take_next(engine: Engine, desk_id: str, initials: str, inbox: InboxFilter | None = None,
              *, now: datetime | None = None, hold_seconds: float = HOLD_SECONDS,
              presence_ttl: float = PRESENCE_TTL_SECONDS) -> int | None:
    """The longest-waiting open conversation (status new/open, oldest unanswered inbound
    first) within the desk's current filters that nobody holds; held for this desk until
    `hold_seconds` pass without a heartbeat in it, or `release`/`leave`. Two desks calling
    at once never get the same id. None when nothing is left.

    "Nobody holds" also leaves out what another live desk has open, and, unless the filter
    names an assignee, what is assigned to someone else: the next one is the taker's to
    answer. The filter's sort is not used (take-next is always the longest-waiting first);
    `now` is the desk's clock, which the overdue filter needs."""
    inbox = inbox or InboxFilter()
    if inbox.status is not None and inbox.status.value not in WAITING:
        return None
    take = _take_postgres if engine.dialect.name == "postgresql" else _take_sqlite
    for _attempt in range(TAKE_ATTEMPTS):
        candidate, taken = take(engine, _Take(desk_id, initials, inbox, now, hold_seconds,
                                              presence_ttl))
        if candidate is None or taken is not None:
            return taken
    return None


@dataclass(frozen=True)
class _Take:
    """What one take was asked."""

    desk_id: str
    initials: str
    inbox: InboxFilter
    clock: datetime | None
    hold_seconds: float
    presence_ttl: float


def _take_postgres(engine: Engine, ask: _Take) -> tuple[int | None, int | None]:
    """One autocommit statement of data-modifying CTEs: one round trip instead of seven.
    Returns the candidate and the conversation taken (None when another desk won it)."""
    candidate = _candidate(engine, ask).cte("candidate")
    at = database_now(engine)
    taken = _hold(engine, postgresql.insert(HOLD), ask, select(
        candidate.c.id, literal(ask.desk_id), literal(ask.initials), at,
        at + ask.hold_seconds, at)).returning(HOLD.c.conversation_id).cte("taken")
    seen = postgresql.insert(PRESENCE).from_select(
        ["desk_id", "initials", "conversation_id", "typing", "seen_at"],
        select(literal(ask.desk_id), literal(ask.initials), taken.c.conversation_id, false(),
               at))
    seen = seen.on_conflict_do_update(
        index_elements=[PRESENCE.c.desk_id],
        set_={name: seen.excluded[name]
              for name in ("initials", "conversation_id", "typing", "seen_at")})
    seen_rows = seen.returning(PRESENCE.c.desk_id).cte("seen")
    statement = select(
        select(candidate.c.id).scalar_subquery(),
        select(taken.c.conversation_id).scalar_subquery(),
        select(func.count()).select_from(seen_rows).scalar_subquery(),
        func.set_config("synchronous_commit", "off", True))  # as `team_sql.transaction`
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(statement).one()
    return row[0], row[1]


def _take_sqlite(engine: Engine, ask: _Take) -> tuple[int | None, int | None]:
    with transaction(engine) as connection:
        # A write first: the one writer lock is this take's until it commits.
        upsert_presence(connection, engine, ask.desk_id, ask.initials, None, False,
                        keep_open=True)
        candidate = connection.execute(_candidate(engine, ask)).scalar()
        if candidate is None:
            return None, None
        at = database_now(engine)
        taken = connection.execute(_hold(engine, sqlite.insert(HOLD), ask, select(
            literal(candidate), literal(ask.desk_id), literal(ask.initials), at,
            at + ask.hold_seconds, at)).returning(HOLD.c.conversation_id)).scalar()
        if taken is not None:
            upsert_presence(connection, engine, ask.desk_id, ask.initials, taken, False)
    return candidate, taken


def _hold(engine: Engine, insert: Any, ask: _Take, row: Any) -> Any:
    """The hold `row` selects, written unless a hold that counts is there: the condition
    reads the conflicting row itself, the latest one, whatever the statement's snapshot."""
    hold = insert.from_select(
        ["conversation_id", "desk_id", "initials", "taken_at", "expires_at", "heard_at"], row)
    return hold.on_conflict_do_update(
        index_elements=[HOLD.c.conversation_id],
        set_={name: hold.excluded[name]
              for name in ("desk_id", "initials", "taken_at", "expires_at", "heard_at")},
        where=or_(~hold_is_live(engine, ask.presence_ttl), HOLD.c.desk_id == ask.desk_id))


def _candidate(engine: Engine, ask: _Take) -> Any:
    """The first conversation of `ix_conversation_waiting_for_answer` within the filters
    that nobody holds or has open: held ones are few (a desk's current conversation and
    the ones it left in the last `HOLD_SECONDS`), so the scan skips little."""
    conversation, inbox = CONVERSATION.c, ask.inbox
    statement = select(conversation.id).select_from(CONVERSATION)
    if inbox.account is not None:
        statement = statement.join(ACCOUNT, ACCOUNT.c.id == conversation.account_id)
    with Session(engine) as session:
        search_ids = search_message_ids(session, inbox.search)
    statement = filter_statement(statement, inbox, None, search_ids, ask.clock)
    if inbox.status is not None:
        statement = statement.where(conversation.status == inbox.status)
    if inbox.assignee is None:
        statement = statement.where(or_(conversation.assignee.is_(None),
                                        conversation.assignee == ask.initials))
    held = exists().where(HOLD.c.conversation_id == conversation.id,
                          hold_is_live(engine, ask.presence_ttl))
    open_elsewhere = exists().where(PRESENCE.c.conversation_id == conversation.id,
                                    PRESENCE.c.desk_id != ask.desk_id,
                                    seen_within(engine, ask.presence_ttl))
    return (statement.where(WAITING_FOR_ANSWER, ~held, ~open_elsewhere)
            .order_by(conversation.last_inbound_at.asc(), conversation.id.asc())
            .limit(1)
            .with_for_update(key_share=True, skip_locked=True, of=CONVERSATION))
