"""Team mode's shared state: which desk is where (presence), and take-next with its holds.

Every desk session heart-beats a presence row; take-next hands each desk the longest-waiting
conversation nobody holds and records a hold for it. Every time is the database's clock
(`socialdesk.store.dbclock`), as epoch seconds, so desks on hosts with skewed clocks agree
on who is gone and which hold has lapsed.

A hold counts while its desk is present (heard from within `PRESENCE_TTL_SECONDS`) and its
`expires_at` is ahead: a heartbeat renews the hold on the conversation the desk has open,
so a hold lapses `HOLD_SECONDS` after its manager moved on or went idle there, and within
`PRESENCE_TTL_SECONDS` of a crash; `leave` and `release` end it at once.

Two desks taking at once never get the same conversation: the hold's primary key is the
conversation, and a hold is only written over when it has lapsed. On PostgreSQL the
candidate row is locked `FOR NO KEY UPDATE SKIP LOCKED` (the `FOR UPDATE` family's lock that
does not wait for, or block, the key-share locks of foreign keys), so concurrent takers
skip each other's candidates instead of queueing behind them; on SQLite the transaction
writes first, which takes the database's one writer lock for the whole take.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, exists, literal_column, or_, select, text
from sqlmodel import Session

from socialdesk.store.dbclock import db_now
from socialdesk.store.models import Status
from socialdesk.store.queries.queue import InboxFilter, filter_statement
from socialdesk.store.queries.search import search_message_ids
from socialdesk.store.tables import ACCOUNT, CONVERSATION, HOLD, PRESENCE

PRESENCE_TTL_SECONDS: float = 15.0
"""A desk not heard from for this long is gone (its holds with it)."""
HOLD_SECONDS: float = 120.0
"""A taken conversation's hold, renewed by the heartbeats of the desk that has it open."""
TAKE_ATTEMPTS = 5
"""Takes tried when another desk wins the race for the candidate: each try sees the holds
committed by the one before, so only a crowd of desks all racing for the same rows needs
more than one."""

WAITING = (Status.NEW.value, Status.OPEN.value)


@dataclass(frozen=True)
class Presence:
    """A desk session as other desks see it."""

    desk_id: str
    """One per desk session (uuid4 hex), made by the desk."""
    initials: str
    conversation_id: int | None
    """The conversation open on that desk, if any."""
    typing: bool
    """Composing an answer in `conversation_id`."""
    seen_at: datetime
    """The last heartbeat, on the database's clock, UTC."""


def heartbeat(engine: Engine, desk_id: str, initials: str, *, conversation_id: int | None,
              typing: bool, hold_seconds: float = HOLD_SECONDS,
              presence_ttl: float = PRESENCE_TTL_SECONDS) -> None:
    """Upsert this desk's presence row (database clock) and renew its hold on the
    conversation it has open; then clear what desks that are gone left behind (their
    presence and holds), so every desk's live updates hear of a crashed colleague."""
    now = db_now(engine)
    with engine.begin() as connection:
        _upsert_presence(connection, now, desk_id, initials, conversation_id, typing)
        if conversation_id is not None:
            connection.execute(
                text(f"UPDATE conversation_hold SET expires_at = {now} + :hold "
                     f"WHERE desk_id = :desk AND conversation_id = :conversation "
                     f"AND expires_at > {now}"),
                {"hold": hold_seconds, "desk": desk_id, "conversation": conversation_id})
    _purge(engine, desk_id, presence_ttl)


def leave(engine: Engine, desk_id: str) -> None:
    """Quit: presence row gone, holds released."""
    with engine.begin() as connection:
        connection.execute(HOLD.delete().where(HOLD.c.desk_id == desk_id))
        connection.execute(PRESENCE.delete().where(PRESENCE.c.desk_id == desk_id))


def present(engine: Engine, *, presence_ttl: float = PRESENCE_TTL_SECONDS) -> list[Presence]:
    """Desks heard from within `presence_ttl` seconds (database clock), by initials."""
    query = select(PRESENCE).where(_seen_within(engine, presence_ttl)).order_by(
        PRESENCE.c.initials, PRESENCE.c.desk_id)
    with engine.connect() as connection:
        return [_presence(row) for row in connection.execute(query).mappings()]


def holder(engine: Engine, conversation_id: int, *,
           presence_ttl: float = PRESENCE_TTL_SECONDS) -> Presence | None:
    """The live desk holding this conversation, if any."""
    query = (select(PRESENCE).join(HOLD, HOLD.c.desk_id == PRESENCE.c.desk_id)
             .where(HOLD.c.conversation_id == conversation_id,
                    HOLD.c.expires_at > _now(engine), _seen_within(engine, presence_ttl)))
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return _presence(row) if row is not None else None


def release(engine: Engine, desk_id: str, conversation_id: int) -> None:
    """This desk is done with the conversation: take-next may hand it to anyone again, and
    the desk no longer shows as having it open (until its next heartbeat says so)."""
    with engine.begin() as connection:
        connection.execute(HOLD.delete().where(HOLD.c.desk_id == desk_id,
                                               HOLD.c.conversation_id == conversation_id))
        connection.execute(PRESENCE.update().where(
            PRESENCE.c.desk_id == desk_id, PRESENCE.c.conversation_id == conversation_id
        ).values(conversation_id=None, typing=False))


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
    for _attempt in range(TAKE_ATTEMPTS):
        with engine.begin() as connection:
            # The first statement writes: on SQLite it takes the writer lock for the take.
            _upsert_presence(connection, _now(engine), desk_id, initials, None, False,
                             keep_open=True)
            candidate = connection.execute(
                _candidate(connection, engine, desk_id, initials, inbox, now, presence_ttl)
            ).scalar()
            if candidate is None:
                return None
            if _hold(connection, engine, candidate, desk_id, initials, hold_seconds,
                     presence_ttl):
                _upsert_presence(connection, _now(engine), desk_id, initials, candidate, False)
                return int(candidate)
    return None


def _candidate(connection: Connection, engine: Engine, desk_id: str, initials: str,
               inbox: InboxFilter, now: datetime | None, presence_ttl: float) -> Any:
    conversation = CONVERSATION.c
    statement = select(conversation.id).select_from(CONVERSATION)
    if inbox.account is not None:
        statement = statement.join(ACCOUNT, ACCOUNT.c.id == conversation.account_id)
    with Session(bind=connection) as session:
        search_ids = search_message_ids(session, inbox.search)
    statement = filter_statement(statement, inbox, None, search_ids, now)
    if inbox.status is None:
        statement = statement.where(conversation.status.in_(WAITING))
    else:
        statement = statement.where(conversation.status == inbox.status)
    if inbox.assignee is None:
        statement = statement.where(or_(conversation.assignee.is_(None),
                                        conversation.assignee == initials))
    alive = _seen_within(engine, presence_ttl)
    held = exists().where(
        HOLD.c.conversation_id == conversation.id, HOLD.c.expires_at > _now(engine),
        HOLD.c.desk_id == PRESENCE.c.desk_id, alive)
    open_elsewhere = exists().where(PRESENCE.c.conversation_id == conversation.id,
                                    PRESENCE.c.desk_id != desk_id, alive)
    return (statement.where(
        conversation.last_inbound_at.is_not(None),
        or_(conversation.last_outbound_at.is_(None),
            conversation.last_outbound_at < conversation.last_inbound_at),
        ~held, ~open_elsewhere)
        .order_by(conversation.last_inbound_at.asc(), conversation.id.asc())
        .limit(1)
        .with_for_update(key_share=True, skip_locked=True, of=CONVERSATION))


def _hold(connection: Connection, engine: Engine, conversation_id: int, desk_id: str,
          initials: str, hold_seconds: float, presence_ttl: float) -> bool:
    """Write the hold unless a live one exists: False when another desk won the race."""
    now = db_now(engine)
    taken = connection.execute(text(
        "INSERT INTO conversation_hold (conversation_id, desk_id, initials, taken_at, "
        f"expires_at) VALUES (:conversation, :desk, :initials, {now}, {now} + :hold) "
        "ON CONFLICT (conversation_id) DO UPDATE SET desk_id = excluded.desk_id, "
        "initials = excluded.initials, taken_at = excluded.taken_at, "
        "expires_at = excluded.expires_at "
        f"WHERE conversation_hold.expires_at <= {now} "
        "OR conversation_hold.desk_id = excluded.desk_id "
        "OR NOT EXISTS (SELECT 1 FROM desk_presence WHERE desk_presence.desk_id = "
        f"conversation_hold.desk_id AND desk_presence.seen_at > {now} - :ttl) "
        "RETURNING conversation_id"),
        {"conversation": conversation_id, "desk": desk_id, "initials": initials,
         "hold": hold_seconds, "ttl": presence_ttl}).first()
    return taken is not None


def _upsert_presence(connection: Connection, now: Any, desk_id: str, initials: str,
                     conversation_id: int | None, typing: bool, *,
                     keep_open: bool = False) -> None:
    """The desk's row, seen now; `keep_open` leaves an existing row's conversation and
    typing as they were (take-next touches the row before it knows what it hands out)."""
    shown = "" if keep_open else (", conversation_id = excluded.conversation_id, "
                                  "typing = excluded.typing")
    connection.execute(text(
        "INSERT INTO desk_presence (desk_id, initials, conversation_id, typing, seen_at) "
        f"VALUES (:desk, :initials, :conversation, :typing, {now}) "
        "ON CONFLICT (desk_id) DO UPDATE SET initials = excluded.initials, "
        f"seen_at = excluded.seen_at{shown}"),
        {"desk": desk_id, "initials": initials, "conversation": conversation_id,
         "typing": typing})


def _purge(engine: Engine, desk_id: str, presence_ttl: float) -> None:
    """Delete the presence of desks gone (other than `desk_id`, which just beat), and holds
    that count no more. On PostgreSQL the
    rows another desk is purging at the same moment are skipped, never waited for: two
    heartbeats never deadlock over stale rows."""
    now = db_now(engine)
    skip = " FOR UPDATE SKIP LOCKED" if engine.dialect.name == "postgresql" else ""
    with engine.begin() as connection:
        connection.execute(text(
            "DELETE FROM desk_presence WHERE desk_id IN (SELECT desk_id FROM desk_presence "
            f"WHERE seen_at <= {now} - :ttl AND desk_id <> :desk{skip})"),
            {"ttl": presence_ttl, "desk": desk_id})
        connection.execute(text(
            "DELETE FROM conversation_hold WHERE conversation_id IN (SELECT conversation_id "
            f"FROM conversation_hold WHERE (expires_at <= {now} OR NOT EXISTS (SELECT 1 FROM "
            "desk_presence WHERE desk_presence.desk_id = conversation_hold.desk_id))"
            f"{skip})"))


def _seen_within(engine: Engine, presence_ttl: float) -> Any:
    return PRESENCE.c.seen_at > _now(engine) - presence_ttl


def _now(engine: Engine) -> Any:
    """The database's now as a column expression (epoch seconds)."""
    return literal_column(db_now(engine))


def _presence(row: Any) -> Presence:
    return Presence(desk_id=row["desk_id"], initials=row["initials"],
                    conversation_id=row["conversation_id"], typing=bool(row["typing"]),
                    seen_at=datetime.fromtimestamp(row["seen_at"], UTC))
