"""The store keeps the planner's statistics itself, on SQLite and PostgreSQL, and ingest's
lookups stay index lookups as the tables grow (issue 16 point 2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from connectors.base import Channel, PullPage
from socialdesk.clock import system_clock
from socialdesk.store import statistics
from socialdesk.store.contacts import KNOWN_HANDLES
from socialdesk.store.db import analyzed_rows, refresh_statistics
from socialdesk.store.ingest import STORED_MESSAGES, ensure_account, ingest_page
from socialdesk.store.models import Account
from socialdesk.store.threads import THREAD_CONVERSATIONS
from tests.support import item


@pytest.fixture
def account(store: Engine) -> Account:
    return ensure_account(store, "brand-x", "x", now=system_clock())


def add(store: Engine, account: Account, first: int, count: int) -> None:
    """`count` DMs from as many customers, each in its own conversation, in pages of 100."""
    for start in range(first, first + count, 100):
        items = [item(str(n), channel=Channel.DM, author=str(n), text="ciao")
                 for n in range(start, min(start + 100, first + count))]
        with Session(store) as session:
            ingest_page(session, account, PullPage("dms", items), now=system_clock())


def counted(store: Engine, table: str) -> int:
    with store.connect() as connection:
        return analyzed_rows(connection, table)


def test_statistics_are_taken_once_then_again_when_the_store_doubles(
    store: Engine, account: Account
) -> None:
    """Without statistics SQLite planned the queue's overdue filter ten times slower and
    PostgreSQL ingest slowed down fourfold over 50,000 items."""
    assert refresh_statistics(store) is False  # nothing stored yet: nothing to plan for
    add(store, account, 0, 10)
    assert refresh_statistics(store) is True
    assert counted(store, "conversation") == counted(store, "message") == 10
    add(store, account, 10, 5)
    assert refresh_statistics(store) is False  # grew by half: the plans still hold
    add(store, account, 15, 10)
    assert refresh_statistics(store) is True
    assert counted(store, "conversation") == 25


@pytest.fixture
def small_growth(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(statistics, "MIN_GROWTH", 100)
    yield


@pytest.mark.usefixtures("small_growth")
def test_a_long_walk_refreshes_the_statistics_as_the_tables_double(
    store: Engine, account: Account
) -> None:
    """Nothing but ingest runs: no sync end, no autovacuum to count on."""
    seen = []
    for first in range(0, 1_600, 100):
        add(store, account, first, 100)
        seen.append(counted(store, "message"))
        stored = first + 100
        assert seen[-1] * 2 >= stored - 100, (stored, seen)  # never more than 2x stale
    assert seen[-1] >= 800
    assert len(set(seen)) <= 6, seen  # a handful of ANALYZEs, not one a page


def generic_plan(store: Engine, sql: str, types: str, values: str) -> str:
    """PostgreSQL's generic plan of `sql` (what a statement psycopg prepared after five runs
    may keep), with `$1`, `$2` parameters."""
    with store.connect() as connection:
        connection.exec_driver_sql(f"PREPARE lookup ({types}) AS {sql}")
        connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(
            f"EXPLAIN EXECUTE lookup ({values})"))
        connection.exec_driver_sql("DEALLOCATE lookup")
        connection.rollback()
    return plan


@pytest.mark.usefixtures("small_growth")
def test_ingest_lookups_read_their_unique_indexes_as_the_tables_grow(
    store: Engine, account: Account
) -> None:
    """The duplicates, authors and threads of a page are read by index, by the generic plan
    too, at every size the store reached in one walk (no sequential scans forbidden here:
    the planner chose with the statistics the store keeps)."""
    if store.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's generic plans; SQLite plans each statement when it runs")
    lookups = {
        "uq_message_platform_external_id": (
            STORED_MESSAGES.format(mark="$1", any_of="= ANY($2)"), "text, text[]"),
        "uq_handle_platform_user": (
            KNOWN_HANDLES.format(mark="$1", any_of="= ANY($2)"), "text, text[]"),
        "uq_conversation_thread": (
            THREAD_CONVERSATIONS.format(mark="$1", any_of="= ANY($2)"), "integer, text[]"),
    }
    first = 0
    # From 2,400: at 1,200 conversations the table is 10 pages, which the planner rightly
    # reads whole for less than ten index probes (17 pages while ingest's UPDATE left a
    # dead copy of each new conversation, before PostgreSQL inserted them folded).
    for size in (2_400, 4_000):
        add(store, account, first, size - first)
        first = size
        keys = ", ".join(f"'{n}'" for n in range(size - 100, size))
        for index, (sql, types) in lookups.items():
            owner = f"{account.id}" if types.startswith("integer") else "'x'"
            plan = generic_plan(store, sql, types, f"{owner}, ARRAY[{keys}]")
            assert index in plan and "Seq Scan" not in plan, (size, plan)
