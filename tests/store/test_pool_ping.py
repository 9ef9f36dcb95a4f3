"""The store's pooled PostgreSQL connections after the server dropped one: a connection
idle past `PING_AFTER_IDLE_SECONDS` is pinged and replaced before use; one in use more
recently fails its one statement, and the next call connects afresh."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from socialdesk.store import db
from socialdesk.store.team import take_next
from tests.store.team_seed import account, waiting


def drop_store_connections(store: Engine) -> int:
    """Terminate, on the server, every connection to the store's database but this one."""
    admin = create_engine(store.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    admin.dispose()
    return int(killed or 0)


@pytest.fixture
def pooled(store: Engine) -> Engine:
    if store.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    return store


def test_a_dropped_connection_idle_past_the_limit_is_replaced_unseen(
        pooled: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    brand = account(pooled)
    first, second = waiting(pooled, brand, 1), waiting(pooled, brand, 2)
    assert take_next(pooled, "ab", "AB") == first
    assert drop_store_connections(pooled) >= 1
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every pooled one idle past it
    assert take_next(pooled, "ab", "AB", give_back=first) == second


def test_a_connection_dropped_while_in_use_fails_once_then_the_store_reconnects(
        pooled: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    brand = account(pooled)
    first, second = waiting(pooled, brand, 1), waiting(pooled, brand, 2)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)  # never pinged
    assert take_next(pooled, "ab", "AB") == first
    assert drop_store_connections(pooled) >= 1
    with pytest.raises(DBAPIError):
        take_next(pooled, "ab", "AB")
    assert take_next(pooled, "ab", "AB") == second
