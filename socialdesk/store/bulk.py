"""Bulk statements shared by the write paths off ingest's hot path (quarantine, cursors):
ON CONFLICT in the session's dialect and chunked id lookups, as Core statements. Ingest's
own statements run below SQLAlchemy (`socialdesk.store.driver`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, Row, Select, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

DIALECT_INSERT: dict[str, Callable[[Table], Any]] = {
    "sqlite": sqlite.insert, "postgresql": postgresql.insert,
}
"""ON CONFLICT is dialect-specific in SQLAlchemy; both dialects spell it the same."""
LOOKUP_CHUNK = 500
"""Ids per IN (...) lookup; well under SQLite's bound-parameter limit."""

_Value = TypeVar("_Value")


def chunks(values: Sequence[_Value], size: int = LOOKUP_CHUNK) -> Iterator[Sequence[_Value]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def existing(session: Session, column: Column[Any], platform: str, values: Sequence[str],
             *extra: Column[Any]) -> Iterator[Row[*tuple[Any, ...]]]:
    """Rows of `column`'s table for one platform and these ids; one platform per page, so
    a plain IN uses the unique index where a row-value IN would scan (SQLite). The list is
    one expanding parameter: a literal list costs a coercion per value, 0.5 ms a page."""
    statement = _lookup_statement(column, *extra)
    for chunk in chunks(values):
        yield from session.connection().execute(
            statement, {"platform": platform, "values": list(chunk)}
        )


@functools.cache
def _lookup_statement(column: Column[Any], *extra: Column[Any]) -> Select[Any]:
    """Built once: constructing a statement and its cache key costs more than running it."""
    return select(column, *extra).where(
        column.table.c.platform == bindparam("platform"),
        column.in_(bindparam("values", expanding=True)),
    )


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name
