"""Team mode's shared state: which desk is where (presence), and the holds take-next gives.

Every desk session heart-beats a presence row; take-next (`socialdesk.store.take_next`)
hands each desk the longest-waiting conversation nobody holds and records a hold for it.
Every time is the database's clock (`socialdesk.store.dbclock`), as epoch seconds, so
desks on hosts with skewed clocks agree on who is gone and which hold has lapsed.

A hold counts while its desk is heard from (within `PRESENCE_TTL_SECONDS`) and its
`expires_at` is ahead: a heartbeat renews the hold on the conversation the desk has open,
so a hold lapses `HOLD_SECONDS` after its manager moved on or went idle there, and within
`PRESENCE_TTL_SECONDS` of a crash; `leave` and `release` end it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, select, text

from socialdesk.store.dbclock import db_now
from socialdesk.store.tables import HOLD, PRESENCE
from socialdesk.store.take_next import release as release
from socialdesk.store.take_next import take_next as take_next
from socialdesk.store.team_sql import HOLD_SECONDS as HOLD_SECONDS
from socialdesk.store.team_sql import PRESENCE_TTL_SECONDS as PRESENCE_TTL_SECONDS
from socialdesk.store.team_sql import (
    hold_is_live,
    now,
    seen_within,
    transaction,
    upsert_presence,
)


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
    """Upsert this desk's presence row (database clock), tell its holds the desk is alive
    and renew the one on the conversation it has open; then clear what desks that are gone
    left behind (their presence and holds), so every desk's live updates hear of a crashed
    colleague."""
    at = now(engine)
    with transaction(engine) as connection:
        upsert_presence(connection, engine, desk_id, initials, conversation_id, typing)
        renewed = (HOLD.c.conversation_id == conversation_id) & (HOLD.c.expires_at > at)
        connection.execute(HOLD.update().where(HOLD.c.desk_id == desk_id).values(
            heard_at=at,
            expires_at=case((renewed, at + hold_seconds), else_=HOLD.c.expires_at)))
        _purge(connection, engine, desk_id, presence_ttl)


def leave(engine: Engine, desk_id: str) -> None:
    """Quit: presence row gone, holds released."""
    with transaction(engine) as connection:
        connection.execute(HOLD.delete().where(HOLD.c.desk_id == desk_id))
        connection.execute(PRESENCE.delete().where(PRESENCE.c.desk_id == desk_id))


def present(engine: Engine, *, presence_ttl: float = PRESENCE_TTL_SECONDS) -> list[Presence]:
    """Desks heard from within `presence_ttl` seconds (database clock), by initials."""
    query = select(PRESENCE).where(seen_within(engine, presence_ttl)).order_by(
        PRESENCE.c.initials, PRESENCE.c.desk_id)
    with engine.connect() as connection:
        return [_presence(row) for row in connection.execute(query).mappings()]


def holds(engine: Engine, *, presence_ttl: float = PRESENCE_TTL_SECONDS
          ) -> dict[int, Presence]:
    """Every hold that counts: conversation id -> the desk holding it (for the queue and
    `socialdesk team who`, in one query)."""
    query = _live_holds(engine, presence_ttl).order_by(HOLD.c.conversation_id)
    with engine.connect() as connection:
        return {row["held_id"]: _presence(row) for row in connection.execute(query).mappings()}


def holder(engine: Engine, conversation_id: int, *,
           presence_ttl: float = PRESENCE_TTL_SECONDS) -> Presence | None:
    """The live desk holding this conversation, if any."""
    query = _live_holds(engine, presence_ttl).where(HOLD.c.conversation_id == conversation_id)
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return _presence(row) if row is not None else None


def _live_holds(engine: Engine, presence_ttl: float) -> Any:
    """The holds that count, each with its desk's presence (`held_id`: the conversation)."""
    return (select(HOLD.c.conversation_id.label("held_id"), PRESENCE)
            .join(PRESENCE, HOLD.c.desk_id == PRESENCE.c.desk_id)
            .where(hold_is_live(engine, presence_ttl), seen_within(engine, presence_ttl)))


def _purge(connection: Connection, engine: Engine, desk_id: str,
           presence_ttl: float) -> None:
    """Delete the presence of desks gone (other than `desk_id`, which just beat), and the
    holds that count no more, in the heartbeat's transaction. On PostgreSQL the rows another
    desk is purging or beating for at the same moment are skipped, never waited for: two
    heartbeats never deadlock over stale rows."""
    at = db_now(engine)
    skip = " FOR UPDATE SKIP LOCKED" if engine.dialect.name == "postgresql" else ""
    connection.execute(text(
        "DELETE FROM desk_presence WHERE desk_id IN (SELECT desk_id FROM desk_presence "
        f"WHERE seen_at <= {at} - :ttl AND desk_id <> :desk{skip})"),
        {"ttl": presence_ttl, "desk": desk_id})
    connection.execute(text(
        "DELETE FROM conversation_hold WHERE conversation_id IN (SELECT conversation_id "
        f"FROM conversation_hold WHERE (expires_at <= {at} OR (heard_at <= {at} - :ttl "
        f"AND desk_id <> :desk)){skip})"), {"ttl": presence_ttl, "desk": desk_id})


def _presence(row: Any) -> Presence:
    return Presence(desk_id=row["desk_id"], initials=row["initials"],
                    conversation_id=row["conversation_id"], typing=bool(row["typing"]),
                    seen_at=datetime.fromtimestamp(row["seen_at"], UTC))
