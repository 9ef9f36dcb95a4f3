"""Live updates on PostgreSQL: what other desks and workers wrote, within a second, through
`LISTEN`/`NOTIFY` instead of polling `max(updated_at)`.

Migration 0013's triggers notify `CHANNEL` when a conversation, message or outbox action
is written (one notification per statement), and when a desk's presence or a hold changes
in a way other desks show. A `ChangeFeed` listens on a connection of its own (psycopg,
autocommit: a LISTEN inside a transaction hears nothing until it ends). When that
connection is lost, the feed connects again by itself and reports one catch-up `Change`
(table `"*"`): what was written meanwhile was never heard, so the caller re-reads.

SQLite has no LISTEN: `ChangeFeed.open` returns None there and the desk polls as before.
psycopg, the PostgreSQL driver (`socialdesk[postgres]`), is imported only by a feed.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text

if TYPE_CHECKING:
    import psycopg

CHANNEL = "socialdesk_changes"
"""Migration 0013 keeps a frozen copy of this name in its triggers."""
RECONNECT_DELAY_SECONDS = 0.2
"""The first pause between reconnection attempts; it doubles up to `MAX_RECONNECT_DELAY`."""
MAX_RECONNECT_DELAY = 5.0
CONNECT_TIMEOUT_SECONDS = 2
"""libpq's shortest: a server that does not answer holds a `wait` up to this much longer."""
PROBE_TABLE = "probe"
"""The table named by `notify_latency`'s own notifications; callers ignore it."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """One written row, or a whole table (`row_id` None) when a statement wrote too many
    rows to name, or everything (`table` "*") after a reconnection."""

    table: str
    """"conversation", "message", "outbox", "presence", "hold", or "*"."""
    row_id: int | str | None
    """The row's id; a desk id (text) for "presence", the conversation's id for "hold"."""
    conversation_id: int | None = None
    """The conversation the row belongs to (itself for "conversation"), if any."""


CATCH_UP = Change("*", None)
"""Reported once after a reconnection: re-read everything shown."""


class ChangeFeed:
    """PostgreSQL: LISTEN on `CHANNEL`; reconnects after a lost connection and then reports
    one catch-up Change (table "*") so the caller re-reads. SQLite: not available.

    One thread uses a feed: `wait` in a loop (a second or so at a time, so the thread can
    notice it should stop), `close` when done."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._connection: psycopg.Connection[Any] | None = None
        self._delay = RECONNECT_DELAY_SECONDS

    @staticmethod
    def open(engine: Engine) -> ChangeFeed | None:
        """A feed listening on `engine`'s database; None on SQLite (the caller polls).
        Never raises for a database out of reach: the feed then connects at a later `wait`,
        which reports `CATCH_UP` once it has."""
        if engine.dialect.name != "postgresql":
            return None
        import psycopg

        url = engine.url.set(drivername="postgresql")
        feed = ChangeFeed(url.render_as_string(hide_password=False))
        try:
            feed._connection = feed._listen()
        except psycopg.OperationalError as error:
            log.info("live updates: cannot listen yet (%s); trying again", error)
        return feed

    @property
    def backend_pid(self) -> int | None:
        """The server process listening for this feed (None while disconnected)."""
        return self._connection.info.backend_pid if self._connection is not None else None

    def wait(self, timeout: float) -> list[Change]:
        """The changes notified since the last call, waiting up to `timeout` seconds for
        the first; [] if none came. Never raises for a lost connection: it reconnects
        (within `timeout`, else at a later call) and then returns `[CATCH_UP]`."""
        import psycopg

        deadline = time.monotonic() + timeout
        if self._connection is None:
            return [CATCH_UP] if self._reconnect(deadline) else []
        try:
            notices = list(self._connection.notifies(timeout=max(timeout, 0.0), stop_after=1))
            if notices:  # whatever else already arrived comes with them
                notices += self._connection.notifies(timeout=0.0)
        except psycopg.OperationalError as error:
            log.info("live updates: connection lost (%s); reconnecting", error)
            self._drop()
            return [CATCH_UP] if self._reconnect(deadline) else []
        return [change for notice in notices for change in parse_payload(notice.payload)]

    def close(self) -> None:
        self._drop()

    def _listen(self) -> psycopg.Connection[Any]:
        import psycopg

        connection = psycopg.connect(self._conninfo, autocommit=True,
                                     connect_timeout=CONNECT_TIMEOUT_SECONDS)
        connection.execute(f"LISTEN {CHANNEL}")
        return connection

    def _reconnect(self, deadline: float) -> bool:
        """Try until `deadline`, pausing longer after each failure."""
        import psycopg

        while True:
            try:
                self._connection = self._listen()
            except psycopg.OperationalError as error:
                log.debug("live updates: cannot reconnect yet (%s)", error)
                pause = min(self._delay, deadline - time.monotonic())
                self._delay = min(self._delay * 2, MAX_RECONNECT_DELAY)
                if pause <= 0:
                    return False
                time.sleep(pause)
                continue
            self._delay = RECONNECT_DELAY_SECONDS
            return True

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def parse_payload(payload: str) -> list[Change]:
    """The changes one notification names (migration 0013's JSON); a payload of another
    shape, which no socialdesk wrote, is read as "re-read everything"."""
    try:
        notice = json.loads(payload)
        table = str(notice["table"])
        rows = notice["rows"]
    except (ValueError, KeyError, TypeError):
        return [CATCH_UP]
    if rows is None:
        return [Change(table, None)]
    return [Change(table, row_id, conversation_id) for row_id, conversation_id in rows]


def notify_latency(engine: Engine, rounds: int = 20, timeout: float = 5.0) -> list[float]:
    """Seconds from sending a notification to a listening feed receiving it, once per round:
    what a write's NOTIFY adds to the time before other desks hear of it. For the load test
    and `benchmarks/`, on PostgreSQL only (ValueError elsewhere); a round that hears
    nothing within `timeout` counts as `timeout`."""
    feed = ChangeFeed.open(engine)
    if feed is None:
        raise ValueError("live updates need PostgreSQL")
    latencies: list[float] = []
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for sequence in range(rounds):
                sent = time.perf_counter()
                connection.execute(text("SELECT pg_notify(:channel, :payload)"), {
                    "channel": CHANNEL,
                    "payload": json.dumps({"table": PROBE_TABLE, "rows": [[sequence, None]]})})
                latencies.append(_heard(feed, sequence, sent, timeout))
    finally:
        feed.close()
    return latencies


def _heard(feed: ChangeFeed, sequence: int, sent: float, timeout: float) -> float:
    while (elapsed := time.perf_counter() - sent) < timeout:
        if Change(PROBE_TABLE, sequence) in feed.wait(timeout - elapsed):
            return time.perf_counter() - sent
    return timeout
