"""The SQL that team mode's presence and take-next share (`socialdesk.store.team`,
`socialdesk.store.take_next`): the database's clock, which rows count as live, the desk's
presence row, and transactions that do not wait for the disk."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, and_, literal_column, text

from socialdesk.store.dbclock import db_now
from socialdesk.store.driver import NO_WAIT_FOR_DISK
from socialdesk.store.tables import HOLD, PRESENCE

PRESENCE_TTL_SECONDS: float = 15.0
"""A desk not heard from for this long is gone (its holds with it)."""
HOLD_SECONDS: float = 120.0
"""A taken conversation's hold, renewed by the heartbeats of the desk that has it open."""


@contextlib.contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction whose commit does not wait for the disk on PostgreSQL: presence and
    holds are news of the moment, which a crashed server may forget (the desks' next
    heartbeats and takes write them again); the WAL flush was most of a heartbeat's time.
    Nothing else is written in these transactions."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(NO_WAIT_FOR_DISK)
        yield connection


def now(engine: Engine) -> Any:
    """The database's now as a column expression (epoch seconds)."""
    return literal_column(db_now(engine))


def seen_within(engine: Engine, presence_ttl: float) -> Any:
    """The desk's presence row was heard from within `presence_ttl` seconds."""
    return PRESENCE.c.seen_at > now(engine) - presence_ttl


def hold_is_live(engine: Engine, presence_ttl: float) -> Any:
    """The hold counts: not lapsed, and its desk heard from within `presence_ttl` seconds.
    Read from the hold row alone, never from the presence table: take-next decides on the
    row it has locked, whatever its statement's snapshot could not see yet."""
    at = now(engine)
    return and_(HOLD.c.expires_at > at, HOLD.c.heard_at > at - presence_ttl)


def upsert_presence(connection: Connection, engine: Engine, desk_id: str, initials: str,
                    conversation_id: int | None, typing: bool, *,
                    keep_open: bool = False) -> None:
    """The desk's row, seen now; `keep_open` leaves an existing row's conversation and
    typing as they were (SQLite's take touches the row before it knows what it hands out)."""
    shown = "" if keep_open else (", conversation_id = excluded.conversation_id, "
                                  "typing = excluded.typing")
    connection.execute(text(
        "INSERT INTO desk_presence (desk_id, initials, conversation_id, typing, seen_at) "
        f"VALUES (:desk, :initials, :conversation, :typing, {db_now(engine)}) "
        "ON CONFLICT (desk_id) DO UPDATE SET initials = excluded.initials, "
        f"seen_at = excluded.seen_at{shown}"),
        {"desk": desk_id, "initials": initials, "conversation": conversation_id,
         "typing": typing})
