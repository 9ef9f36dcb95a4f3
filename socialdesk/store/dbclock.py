"""The database's clock in SQL, for rows several hosts compare: leases, desks' presence and
holds. Hosts with skewed clocks agree when every expiry is stamped and compared by the one
database, as epoch seconds."""

from __future__ import annotations

from sqlalchemy import Engine

DB_NOW = {
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgresql": "extract(epoch from clock_timestamp())",
}
"""Now, as epoch seconds (a float), read by the database at the statement's run."""


def db_now(engine: Engine) -> str:
    """The SQL for now on `engine`'s database: `DB_NOW` of its dialect."""
    return DB_NOW[engine.dialect.name]
