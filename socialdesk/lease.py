"""A lease row per account: whoever holds it pulls; cron `sync` and `run` never pull together.

Works on SQLite and PostgreSQL and across hosts (PLATFORMS.md, APScheduler notes). The
clock is the database's, so hosts with skewed clocks agree. A holder killed with SIGKILL
on this host is detected by its dead pid, so a rerun need not wait for the TTL.
"""

from __future__ import annotations

import os
import socket
import uuid

from sqlalchemy import Engine, text

LEASE_TTL_SECONDS = 120.0
"""Far above one page's worst time; renewed between pages."""

_DB_NOW = {
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgresql": "extract(epoch from clock_timestamp())",
}


def new_owner_id() -> str:
    """host:pid:random, so a stale holder on this host can be recognised by its pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(engine: Engine, name: str, owner: str, ttl: float = LEASE_TTL_SECONDS) -> bool:
    """Take or renew the lease; False when someone alive holds it."""
    if _try_take(engine, name, owner, ttl):
        return True
    holder = current_holder(engine, name)
    if holder and _is_dead_local_process(holder):
        return _try_take(engine, name, owner, ttl, stale_owner=holder)
    return False


def release(engine: Engine, name: str, owner: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE sync_lease SET owner = NULL WHERE name = :name AND owner = :owner"),
            {"name": name, "owner": owner},
        )


def current_holder(engine: Engine, name: str) -> str | None:
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT owner FROM sync_lease "
                f"WHERE name = :name AND expires_at > {_now(engine)}"
            ),
            {"name": name},
        ).first()
    return row[0] if row else None


def _try_take(
    engine: Engine, name: str, owner: str, ttl: float, stale_owner: str | None = None
) -> bool:
    now = _now(engine)
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


def _now(engine: Engine) -> str:
    return _DB_NOW[engine.dialect.name]


def _is_dead_local_process(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
