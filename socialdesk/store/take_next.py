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

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Engine,
    Integer,
    String,
    bindparam,
    exists,
    false,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from socialdesk.store.bulk import DIALECT_INSERT
from socialdesk.store.models import WAITING_FOR_ANSWER
from socialdesk.store.queries.queue import WAITING_STATUSES, InboxFilter, filter_statement
from socialdesk.store.queries.search import search_message_ids
from socialdesk.store.tables import CONVERSATION, HOLD, PRESENCE
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


def take_next(engine: Engine, desk_id: str, initials: str, inbox: InboxFilter | None = None,
              *, now: datetime | None = None, give_back: int | None = None,
              hold_seconds: float = HOLD_SECONDS,
              presence_ttl: float = PRESENCE_TTL_SECONDS) -> int | None:
    """The longest-waiting open conversation (status new/open, oldest unanswered inbound
    first) within the desk's current filters that nobody holds; held for this desk until
    `hold_seconds` pass without a heartbeat in it, or `release`/`leave`. Two desks calling
    at once never get the same id. None when nothing is left.

    "Nobody holds" also leaves out what another live desk has open, and, unless the filter
    names an assignee, what is assigned to someone else: the next one is the taker's to
    answer. The filter's sort is not used (take-next is always the longest-waiting first);
    `now` is the desk's clock, which the overdue filter needs. `give_back` is the one this
    desk took before: released in the same statement (as `team.release` would), unless it
    is the one handed out again, so a desk's "take next" costs one round trip, not two."""
    inbox = inbox or InboxFilter()
    if inbox.status is not None and inbox.status not in WAITING_STATUSES:
        if give_back is not None:
            release(engine, desk_id, give_back)
        return None
    search_ids = None  # read once: every attempt narrows to the same matches
    if inbox.search.strip():
        with Session(engine) as session:
            search_ids = search_message_ids(session, inbox.search)
    ask = _Take(desk_id, initials, inbox, now, hold_seconds, presence_ttl, give_back,
                search_ids)
    take: Callable[[Engine, _Take], tuple[int | None, int | None]] = _take_sqlite
    if engine.dialect.name == "postgresql":
        take = functools.partial(_take_postgres, statement=_postgres_statement(engine, ask))
    for _attempt in range(TAKE_ATTEMPTS):
        candidate, taken = take(engine, ask)
        if candidate is None or taken is not None:
            return taken
    return None


def release(engine: Engine, desk_id: str, conversation_id: int) -> None:
    """This desk is done with the conversation: take-next may hand it to anyone again, and
    the desk no longer shows as having it open (until its next heartbeat says so). On
    PostgreSQL one autocommit statement (one round trip), not waiting for the disk."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(RELEASE_POSTGRES,
                               {"taker_desk": desk_id, "taker_gives_back": conversation_id})
        return
    with transaction(engine) as connection:
        for statement in _given_back(desk_id, conversation_id):
            connection.execute(statement)


def _given_back(desk_id: Any, conversation_id: Any) -> tuple[Any, Any]:
    """What a desk giving a conversation back writes: its hold goes, and the desk shows it
    open no more. `release` runs these; the take statement adds its conditions to them."""
    hold = HOLD.delete().where(HOLD.c.desk_id == desk_id,
                               HOLD.c.conversation_id == conversation_id)
    shown = PRESENCE.update().where(
        PRESENCE.c.desk_id == desk_id, PRESENCE.c.conversation_id == conversation_id
    ).values(conversation_id=None, typing=False)
    return hold, shown


DESK = bindparam("taker_desk", type_=String())
INITIALS = bindparam("taker_initials", type_=String())
GIVE_BACK = bindparam("taker_gives_back", type_=Integer())
"""The take statement's values per call (the rest of it is built once per filter), named
unlike any column: an UPDATE would take a parameter named as a column for a new value."""
_GONE, _SHOWN = _given_back(DESK, GIVE_BACK)
RELEASE_POSTGRES = select(func.set_config("synchronous_commit", "off", True)).add_cte(
    _GONE.cte("gone"), _SHOWN.cte("shown"))
"""`release` on PostgreSQL: the hold and what the desk shows open, in one statement (its
CTEs write whether read or not); with `transaction`'s setting, for this commit."""


@dataclass(frozen=True)
class _Take:
    """What one take was asked."""

    desk_id: str
    initials: str
    inbox: InboxFilter
    clock: datetime | None
    hold_seconds: float
    presence_ttl: float
    give_back: int | None = None
    search_ids: Any = None
    """The search's matches (`search_message_ids`), read once for every attempt."""


def _postgres_statement(engine: Engine, ask: _Take) -> Any:
    """The take statement for `ask`'s filter: built once per filter, or per take when it
    holds search words or the overdue filter (the matches, the desk's now)."""
    if ask.search_ids is not None or ask.inbox.overdue:
        return _take_statement(engine, ask.inbox, ask.clock, ask.hold_seconds,
                               ask.presence_ttl, ask.search_ids)
    return _cached_take_statement(engine, ask.inbox, ask.hold_seconds, ask.presence_ttl)


def _take_postgres(engine: Engine, ask: _Take, statement: Any) -> tuple[int | None, int | None]:
    """One autocommit statement of data-modifying CTEs: one round trip instead of seven.
    Returns the candidate and the conversation taken (None when another desk won it)."""
    values = {"taker_desk": ask.desk_id, "taker_initials": ask.initials,
              "taker_gives_back": ask.give_back}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(statement, values).one()
    return row[0], row[1]


@functools.lru_cache(maxsize=64)
def _cached_take_statement(engine: Engine, inbox: InboxFilter, hold_seconds: float,
                           presence_ttl: float) -> Any:
    """The take statement of a filter without search words or overdue, built once: its
    construction was a third of a take's client time."""
    return _take_statement(engine, inbox, None, hold_seconds, presence_ttl, None)


def _take_statement(engine: Engine, inbox: InboxFilter, clock: datetime | None,
                    hold_seconds: float, presence_ttl: float, search_ids: Any) -> Any:
    """Candidate, hold, presence and the hold given back, one statement; the desk, its
    initials and `give_back` are bound per call (`DESK`, `INITIALS`, `GIVE_BACK`)."""
    candidate = _candidate(engine, inbox, clock, presence_ttl, DESK, INITIALS,
                           search_ids).cte("candidate")
    at = database_now(engine)
    taken = _hold(engine, presence_ttl, DESK, select(
        candidate.c.id, DESK, INITIALS, at, at + hold_seconds, at)
    ).returning(HOLD.c.conversation_id).cte("taken")
    seen = postgresql.insert(PRESENCE).from_select(
        ["desk_id", "initials", "conversation_id", "typing", "seen_at"],
        select(DESK, INITIALS, taken.c.conversation_id, false(), at))
    seen = seen.on_conflict_do_update(
        index_elements=[PRESENCE.c.desk_id],
        set_={name: seen.excluded[name]
              for name in ("initials", "conversation_id", "typing", "seen_at")})
    seen_rows = seen.returning(PRESENCE.c.desk_id).cte("seen")
    # Given back as `release` does; never the row just taken again (one statement may not
    # write a row twice), and the desk shows nothing open only when nothing was taken.
    hold, shown_open = _given_back(DESK, GIVE_BACK)
    given = hold.where(~exists().where(taken.c.conversation_id == GIVE_BACK)
                       ).returning(HOLD.c.conversation_id).cte("given")
    shown = shown_open.where(~exists().select_from(taken)
                             ).returning(PRESENCE.c.desk_id).cte("shown")
    return select(
        select(candidate.c.id).scalar_subquery(),
        select(taken.c.conversation_id).scalar_subquery(),
        select(func.count()).select_from(seen_rows).scalar_subquery(),
        select(func.count()).select_from(given).scalar_subquery(),
        select(func.count()).select_from(shown).scalar_subquery(),
        func.set_config("synchronous_commit", "off", True))  # as `team_sql.transaction`


def _take_sqlite(engine: Engine, ask: _Take) -> tuple[int | None, int | None]:
    with transaction(engine) as connection:
        # A write first: the one writer lock is this take's until it commits.
        upsert_presence(connection, engine, ask.desk_id, ask.initials, None, False,
                        keep_open=True)
        candidate = connection.execute(_candidate(
            engine, ask.inbox, ask.clock, ask.presence_ttl, ask.desk_id, ask.initials,
            ask.search_ids)).scalar()
        taken = None
        if candidate is not None:
            at = database_now(engine)
            taken = connection.execute(_hold(
                engine, ask.presence_ttl, ask.desk_id, select(
                    literal(candidate), literal(ask.desk_id), literal(ask.initials), at,
                    at + ask.hold_seconds, at)).returning(HOLD.c.conversation_id)).scalar()
        if ask.give_back is not None and ask.give_back != taken:
            for statement in _given_back(ask.desk_id, ask.give_back):
                connection.execute(statement)
        if taken is not None:
            upsert_presence(connection, engine, ask.desk_id, ask.initials, taken, False)
    return candidate, taken


def _hold(engine: Engine, presence_ttl: float, desk_id: Any, row: Any) -> Any:
    """The hold `row` selects, written unless a hold that counts is there: the condition
    reads the conflicting row itself, the latest one, whatever the statement's snapshot."""
    hold = DIALECT_INSERT[engine.dialect.name](HOLD).from_select(
        ["conversation_id", "desk_id", "initials", "taken_at", "expires_at", "heard_at"], row)
    return hold.on_conflict_do_update(
        index_elements=[HOLD.c.conversation_id],
        set_={name: hold.excluded[name]
              for name in ("desk_id", "initials", "taken_at", "expires_at", "heard_at")},
        where=or_(~hold_is_live(engine, presence_ttl), HOLD.c.desk_id == desk_id))


def _candidate(engine: Engine, inbox: InboxFilter, clock: datetime | None,
               presence_ttl: float, desk_id: Any, initials: Any, search_ids: Any = None) -> Any:
    """The first conversation of `ix_conversation_waiting_for_answer` within the filters
    that nobody holds or has open: held ones are few (a desk's current conversation and
    the ones it left in the last `HOLD_SECONDS`), so the scan skips little."""
    conversation = CONVERSATION.c
    statement = select(conversation.id).select_from(CONVERSATION)
    statement = filter_statement(statement, inbox, inbox.status, search_ids, clock)
    if inbox.assignee is None:
        statement = statement.where(or_(conversation.assignee.is_(None),
                                        conversation.assignee == initials))
    held = exists().where(HOLD.c.conversation_id == conversation.id,
                          hold_is_live(engine, presence_ttl))
    open_elsewhere = exists().where(PRESENCE.c.conversation_id == conversation.id,
                                    PRESENCE.c.desk_id != desk_id,
                                    seen_within(engine, presence_ttl))
    return (statement.where(WAITING_FOR_ANSWER, ~held, ~open_elsewhere)
            .order_by(conversation.last_inbound_at.asc(), conversation.id.asc())
            .limit(1)
            .with_for_update(key_share=True, skip_locked=True, of=CONVERSATION))
