"""The planner's statistics, kept current by the store itself on SQLite and PostgreSQL.

Both engines plan from statistics that only ANALYZE writes. Without them SQLite picked a
poor index for the queue's "past the SLA" filter (140 ms instead of 12 ms at 40,000
conversations), and PostgreSQL, whose autovacuum may be off or late, kept planning a
growing table as the empty one it once was: ingest fell from 3,045 to 887 items/s per
5,000 items over 50,000 (issue 16). ANALYZE also makes PostgreSQL re-plan the prepared
statements psycopg keeps for ingest's lookups.

So the store ANALYZEs when a table has no statistics yet or has more than doubled since
they were taken: a handful of times in a store's life, never relying on autovacuum.
`refresh_statistics` checks (cheap: an index read and a catalogue read per table) and is
called at the end of `sync`, by `run` and when the desk opens; ingest calls `note_growth`
after each page, which checks once this process has stored as many messages as the
statistics last counted (at least `MIN_GROWTH`), so a long walk re-checks at 2x, 4x, 8x…
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

STATISTICS_TABLES = ("conversation", "message")
"""The tables whose growth decides; ANALYZE covers the lookups' tables too."""
POSTGRES_ANALYZE = "ANALYZE conversation, message, contact, handle"
MIN_GROWTH = 1_000
"""New messages between two checks at least: a young store is not analysed every page."""


def refresh_statistics(engine: Engine) -> bool:
    """ANALYZE a store that has no table statistics yet, or whose conversations or messages
    have more than doubled since they were taken; True when it ran. A whole ANALYZE on
    SQLite (1 s at a million messages): a sampled one (`analysis_limit=1000`) misled the
    planner into sorting every conversation for each queue page, a second per key.
    PostgreSQL samples by itself (30,000 rows at the default statistics target)."""
    ran, _messages, _counted = _refresh(engine)
    return ran


def _refresh(engine: Engine) -> tuple[bool, int, int]:
    """Whether ANALYZE ran, and the messages stored and counted by the statistics after."""
    with engine.connect() as connection:
        sizes = {table: (_rows(connection, table), analyzed_rows(connection, table))
                 for table in STATISTICS_TABLES}
        if all(rows <= 2 * counted for rows, counted in sizes.values()):
            return False, *sizes["message"]
        postgres = connection.dialect.name == "postgresql"
        connection.exec_driver_sql(POSTGRES_ANALYZE if postgres else "ANALYZE")
        connection.commit()
        return True, sizes["message"][0], analyzed_rows(connection, "message")


def _rows(connection: Any, table: str) -> int:
    """The table's rows, about: its highest id (an index read, where count(*) reads all)."""
    return int(connection.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar() or 0)


def analyzed_rows(connection: Any, table: str) -> int:
    """The row count the planner's statistics hold for `table`; 0 before any ANALYZE."""
    if connection.dialect.name == "postgresql":
        tuples = connection.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%(table)s)",
            {"table": table},
        ).scalar()
        return max(int(tuples or 0), 0)  # -1: never analysed nor vacuumed
    if connection.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                  "AND name = 'sqlite_stat1'").first() is None:
        return 0
    stats = connection.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = ?", (table,))
    return max((int(stat.split()[0]) for (stat,) in stats), default=0)


@dataclass
class _Growth:
    stored: int = 0
    """Messages this process stored since the last check."""
    next_check: int = field(default_factory=lambda: MIN_GROWTH)
    """How many it stores before checking again: until the messages would have doubled
    since the statistics counted them. (Each `sync` and `run` also checks on its own, so
    a process starts without a check.)"""


_GROWTH: weakref.WeakKeyDictionary[Engine, _Growth] = weakref.WeakKeyDictionary()


def note_growth(engine: Engine, new_messages: int) -> bool:
    """Count messages ingest stored; refresh the statistics once the store may have doubled
    since they were taken. True when ANALYZE ran."""
    growth = _GROWTH.setdefault(engine, _Growth())
    growth.stored += new_messages
    if growth.stored < growth.next_check:
        return False
    ran, messages, counted = _refresh(engine)
    growth.stored = 0
    growth.next_check = max(MIN_GROWTH, 2 * counted - messages + 1)
    return ran
