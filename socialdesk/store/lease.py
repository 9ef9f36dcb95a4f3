"""A lease row per account: whoever holds it pulls; cron `sync` and `run` never pull together.

Works on SQLite and PostgreSQL and across hosts (PLATFORMS.md, APScheduler notes). The
clock is the database's, so hosts with skewed clocks agree.

The owner id names the holder's host, pid and process start time. A holder on this host
whose pid is gone, is a zombie (killed, and its parent never reaped it: `timeout -s KILL`
leaves one in a container whose init does not reap) or belongs to a process started at
another time (the pid was reused) is dead, and its lease is taken over at once instead of
after the TTL. Holders on other hosts cannot be looked at, so for them the TTL decides.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Collection
from dataclasses import dataclass

import psutil
from sqlalchemy import Engine, bindparam, text

from socialdesk.store.dbclock import db_now

LEASE_TTL_SECONDS = 120.0
"""Far above one page's worst time; renewed between pages."""

DONE_PREFIX = "done:"
"""The owner of a lease that marks finished work (`mark_done`)."""


@dataclass(frozen=True)
class Holder:
    """Who an owner id says holds a lease: `started` is None in ids written by versions
    that did not record it (host:pid:random), which are then judged by their pid alone."""

    host: str
    pid: int
    started: str | None

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def new_owner_id(pid: int | None = None) -> str:
    """host:pid:start:random, so a stale holder on this host can be recognised even after
    its pid was given to another process."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{process_started(pid)}:{uuid.uuid4().hex[:8]}"


def process_started(pid: int) -> str:
    """The process's start time as recorded in owner ids ("" when it cannot be read)."""
    try:
        return f"{psutil.Process(pid).create_time():.2f}"
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return ""


def parse_owner(owner: str) -> Holder | None:
    """The holder an owner id names, or None for ids of another shape (tests, old tools)."""
    parts = owner.split(":")
    if len(parts) not in (3, 4) or not parts[1].isdigit():
        return None
    started = parts[2] if len(parts) == 4 and parts[2] else None
    return Holder(parts[0], int(parts[1]), started)


def acquire(engine: Engine, name: str, owner: str, ttl: float = LEASE_TTL_SECONDS) -> bool:
    """Take or renew the lease; False when someone alive holds it."""
    if _try_take(engine, name, owner, ttl):
        return True
    holder = current_holder(engine, name)
    if holder and is_dead_local_holder(holder):
        return _try_take(engine, name, owner, ttl, stale_owner=holder)
    return False


def renew(engine: Engine, names: Collection[str], owner: str, ttl: float) -> set[str]:
    """Renew many leases in one statement (a worker's heartbeat): each of `names` taken as
    `acquire` would take it when its row exists and nobody else holds it alive. Returns the
    names renewed; the others are for `acquire`, which also looks at dead local holders."""
    if not names:
        return set()
    now = db_now(engine)
    statement = text(
        f"UPDATE sync_lease SET owner = :owner, expires_at = {now} + :ttl "
        "WHERE name IN :names AND (owner = :owner OR owner IS NULL "
        f"OR expires_at < {now}) RETURNING name"
    ).bindparams(bindparam("names", expanding=True))
    with engine.begin() as connection:
        rows = connection.execute(statement, {"names": list(names), "owner": owner, "ttl": ttl})
        return {name for (name,) in rows}


def release(engine: Engine, name: str, owner: str) -> None:
    """Give the lease up; `expires_at` becomes the release time, so `idle_seconds` can tell
    how long nobody has held it."""
    with engine.begin() as connection:
        connection.execute(
            text(f"UPDATE sync_lease SET owner = NULL, expires_at = {db_now(engine)} "
                 "WHERE name = :name AND owner = :owner"),
            {"name": name, "owner": owner},
        )


def idle_seconds(engine: Engine, name: str) -> float:
    """How long nobody has held the lease (database clock): 0 while a holder's time runs,
    infinity for a lease never taken."""
    with engine.connect() as connection:
        row = connection.execute(
            text(f"SELECT {db_now(engine)} - expires_at FROM sync_lease WHERE name = :name"),
            {"name": name},
        ).first()
    if row is None:
        return float("inf")
    return max(float(row[0]), 0.0)


def live_owners(engine: Engine, prefix: str) -> list[str]:
    """The owners of the unexpired leases whose names start with `prefix`, less those this
    host can see are dead."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT owner FROM sync_lease WHERE substr(name, 1, length(:prefix)) = :prefix "
                 "AND owner IS NOT NULL "
                 f"AND expires_at > {db_now(engine)}"),
            {"prefix": prefix},
        ).all()
    return [owner for (owner,) in rows if not is_dead_local_holder(owner)]


def mark_done(engine: Engine, name: str, owner: str, seconds: float) -> bool:
    """Turn a held lease into a mark that the work it guarded is done, for `seconds`: nobody
    can take it meanwhile (`done:` owners are never judged dead). False when not ours."""
    with engine.begin() as connection:
        result = connection.execute(
            text(f"UPDATE sync_lease SET owner = :done, expires_at = {db_now(engine)} + :seconds "
                 "WHERE name = :name AND owner = :owner"),
            {"name": name, "owner": owner, "done": DONE_PREFIX + owner, "seconds": seconds},
        )
    return bool(result.rowcount == 1)


def prune(engine: Engine, prefix: str, older_than: float) -> None:
    """Delete the leases named `prefix…` that ended more than `older_than` seconds ago
    (the done marks of past report runs, the rows of workers long gone)."""
    with engine.begin() as connection:
        connection.execute(
            text("DELETE FROM sync_lease WHERE substr(name, 1, length(:prefix)) = :prefix "
                 f"AND expires_at < {db_now(engine)} - :older"),
            {"prefix": prefix, "older": older_than},
        )


def current_holder(engine: Engine, name: str) -> str | None:
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT owner FROM sync_lease "
                f"WHERE name = :name AND expires_at > {db_now(engine)}"
            ),
            {"name": name},
        ).first()
    return row[0] if row else None


def last_owner(engine: Engine, name: str) -> str | None:
    """Who holds the lease or held it last without releasing it (expired or not): the
    worker whose work is taken over."""
    with engine.connect() as connection:
        row = connection.execute(text("SELECT owner FROM sync_lease WHERE name = :name"),
                                 {"name": name}).first()
    return row[0] if row else None


def describe_holder(owner: str | None) -> str:
    """For messages: "pid 4242 on host", or "another host's process" when unreadable."""
    holder = parse_owner(owner) if owner else None
    return holder.describe() if holder else "a process of unknown id"


def _try_take(
    engine: Engine, name: str, owner: str, ttl: float, stale_owner: str | None = None
) -> bool:
    now = db_now(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sync_lease (name, owner, expires_at) VALUES (:name, NULL, 0) "
                "ON CONFLICT (name) DO NOTHING"
            ),
            {"name": name},
        )
        result = connection.execute(
            text(
                f"UPDATE sync_lease SET owner = :owner, expires_at = {now} + :ttl "
                "WHERE name = :name AND (owner = :owner OR owner IS NULL "
                f"OR owner = :stale OR expires_at < {now})"
            ),
            {"name": name, "owner": owner, "ttl": ttl, "stale": stale_owner or ""},
        )
    return bool(result.rowcount == 1)


def is_dead_local_holder(owner: str) -> bool:
    """True when the owner id names a process of this host that no longer runs: gone, a
    zombie, or a newer process that inherited its pid. False when it may be alive, or
    lives on another host."""
    holder = parse_owner(owner)
    if holder is None or holder.host != socket.gethostname():
        return False
    try:
        process = psutil.Process(holder.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return True
        started = f"{process.create_time():.2f}"
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:
        return False
    return holder.started is not None and started != holder.started
