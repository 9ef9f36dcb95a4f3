"""The ingest path's statements, straight on the session's DBAPI connection.

A page of 100 items runs about ten statements; through SQLAlchemy each cost 15–25 µs of
statement handling plus a bind or result processor per value (8.7 µs per datetime on
SQLite), more than SQLite spends storing the row (benchmarks/ingest.py). Here the SQL is
plain text built once per shape, values are converted by the few functions below, and
the statements run in the session's own transaction: they commit or roll back with it.

The conversions store exactly what SQLAlchemy would store, so ORM and Core reads and
comparisons see no difference (tests/store/test_driver.py compares them).
"""

from __future__ import annotations

import functools
import itertools
import json
import json.encoder
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

Query = tuple[str, Sequence[Any]]
"""A statement and its parameters."""
LOOKUP_CHUNK = 500
"""Values per lookup: well under SQLite's bound-parameter limit."""
Column = tuple[str, str]
"""A column's name and its PostgreSQL type (for the arrays of `Driver.insert`)."""
SQLITE_ROWS_PER_INSERT = 500
"""Rows per multi-row INSERT on SQLite: 20 columns each stays far below its 32,766
parameters."""


NO_WAIT_FOR_DISK = "SET LOCAL synchronous_commit TO OFF"
"""PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk. For
writes a server crash may forget because they are written again anyway: a pulled page
(`socialdesk.store.ingest`), presence and holds (`socialdesk.store.team_sql`)."""


class Driver:
    """The DBAPI connection under a session, with its dialect's placeholders and values."""

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.postgres = connection.dialect.name == "postgresql"
        self.connection: Any = connection.connection.driver_connection
        self.mark = "%s" if self.postgres else "?"
        self._later: list[Query] = []
        self._sqlite_times: dict[datetime, str] = {}

    # -- statements ---------------------------------------------------------------------

    def rows(self, sql: str, parameters: Sequence[Any] = (), *, binary: bool = False
             ) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        try:
            if binary:  # psycopg: results in binary, cheaper to read than text
                cursor.execute(sql, parameters, binary=True)
            else:
                cursor.execute(sql, parameters)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def rows_together(self, queries: Sequence[Query]) -> list[list[tuple[Any, ...]]]:
        """The rows of each of several independent SELECTs, on PostgreSQL in one round
        trip (a pipeline): a page's lookups do not wait for each other's answers."""
        if not self.postgres or len(queries) < 2:
            return [self.rows(sql, parameters) for sql, parameters in queries]
        cursors = []
        try:
            with self.connection.pipeline():
                for sql, parameters in queries:
                    cursor = self.connection.cursor()
                    cursors.append(cursor)
                    cursor.execute(sql, parameters)
            return [list(cursor.fetchall()) for cursor in cursors]
        finally:
            for cursor in cursors:
                cursor.close()

    def lookups(self, template: str, owner: Any, values: Sequence[Any]) -> list[Query]:
        """`template` (with `{mark}` for `owner` and `{any_of}` for the values) as queries
        of at most `LOOKUP_CHUNK` values each."""
        return [(template.format(mark=self.mark, any_of=self.any_of(len(chunk))),
                 (owner, *self.any_values(chunk)))
                for chunk in (values[start:start + LOOKUP_CHUNK]
                              for start in range(0, len(values), LOOKUP_CHUNK))]

    def run(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, parameters)
        finally:
            cursor.close()

    def later(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        """A write whose outcome nothing in the page reads: on PostgreSQL it waits for
        `send_later`, which sends all such writes in one round trip (a pipeline); on
        SQLite, in process, it runs now. Call `send_later` before anything reads what
        these write, and before the commit."""
        if self.postgres:
            self._later.append((sql, parameters))
        else:
            self.run(sql, parameters)

    def send_later(self) -> None:
        """Run the writes `later` kept, in their order, in one round trip."""
        waiting, self._later = self._later, []
        if len(waiting) == 1:
            self.run(*waiting[0])
        elif waiting:
            with self.connection.cursor() as cursor, self.connection.pipeline():
                for sql, parameters in waiting:
                    cursor.execute(sql, parameters)

    def run_many(self, sql: str, parameters: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows (psycopg pipelines them; sqlite3 prepares once)."""
        if not parameters:
            return
        cursor = self.connection.cursor()
        try:
            cursor.executemany(sql, parameters)
        finally:
            cursor.close()

    def update(self, table: str, assignments: Sequence[tuple[str, str, str]],
               rows: Sequence[Sequence[Any]]) -> None:
        """`UPDATE table SET …` once per row, the row's last value its `id`; each assignment
        is `(column, type, expression)`, `{value}` in the expression standing for the
        row's value (`COALESCE({value}, column)` keeps the stored one for a NULL).

        SQLite: `executemany`, prepared once. PostgreSQL: one `UPDATE … FROM unnest(…)`
        for all the rows, where `executemany` sent and executed a statement per row; it
        waits for `send_later`."""
        if not rows:
            return
        if not self.postgres:
            sets = ", ".join(f"{name} = {expression.format(value='?')}"
                             for name, _kind, expression in assignments)
            self.run_many(f"UPDATE {table} SET {sets} WHERE id = ?", rows)
            return
        sets = ", ".join(f"{name} = {expression.format(value=f'new.v{index}')}"
                         for index, (name, _kind, expression) in enumerate(assignments))
        arrays = ", ".join([*(f"%b::{kind}[]" for _name, kind, _expression in assignments),
                            "%b::integer[]"])
        names = ", ".join([*(f"v{index}" for index in range(len(assignments))), "row_id"])
        self.later(f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS new({names}) "
                   f"WHERE {table}.id = new.row_id",
                   [list(values) for values in zip(*rows, strict=True)])

    # -- SQL shapes ---------------------------------------------------------------------

    def any_of(self, count: int) -> str:
        """`IN (…)` for `count` values: one array parameter on PostgreSQL, so each lookup
        is one statement text it prepares once; placeholders on SQLite, which has no
        arrays. The array goes in binary, unescaped (see `insert`). Pair with
        `any_values`."""
        if self.postgres:
            return "= ANY(%b)"
        return _sqlite_in(count)

    def any_values(self, values: Sequence[Any]) -> tuple[Any, ...]:
        return (list(values),) if self.postgres else tuple(values)

    def insert(self, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]],
               tail: str = "") -> list[tuple[Any, ...]]:
        """Insert `rows` in one statement (per 500 on SQLite); `tail` is what follows the
        values (`ON CONFLICT …`, `RETURNING …`), and its rows are returned.

        SQLite gets a multi-row `VALUES (…), (…)`. PostgreSQL gets one array per column,
        `SELECT * FROM unnest(…)`: a short statement it prepares once, where a multi-row
        VALUES of 2,000 placeholders cost psycopg 10 ms a page to rewrite (it caches only
        short statements). The arrays go in binary (`%b`): as text psycopg escapes every
        element with a regular expression, 31 µs of client CPU per message row against
        under 1 µs (benchmarks/ingest.py, issue 16)."""
        if not rows:
            return []
        names = ", ".join(name for name, _type in columns)
        if self.postgres:
            arrays = ", ".join(f"%b::{kind}[]" for _name, kind in columns)
            return self.rows(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {tail}",
                             [list(values) for values in zip(*rows, strict=True)], binary=True)
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(rows), SQLITE_ROWS_PER_INSERT):
            chunk = rows[start:start + SQLITE_ROWS_PER_INSERT]
            found += self.rows(
                f"INSERT INTO {table} ({names}) {_sqlite_values(len(columns), len(chunk))} {tail}",
                list(itertools.chain.from_iterable(chunk)))
        return found

    # -- values -------------------------------------------------------------------------

    def time(self, value: datetime | None) -> Any:
        """A datetime as the store's time columns hold it (aware UTC, see models). SQLite's
        text is remembered for the driver's life (a page): a conversation the page opens is
        stamped with its messages' times, each written again in the message's own row."""
        if value is None:
            return None
        if self.postgres:
            return value.astimezone(UTC)
        text = self._sqlite_times.get(value)
        if text is None:
            text = self._sqlite_times[value] = sqlite_time(value)
        return text

    def read_time(self, value: Any) -> datetime | None:
        """A time column's value as SQLModel reads it back: aware UTC."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    @staticmethod
    def json(value: Any) -> str | None:
        """JSON text; None stays SQL NULL, as the ORM stores a missing value."""
        return None if value is None else json_text(value)


def _json_encoder() -> Callable[[Any], str]:
    """`json.dumps` with its defaults (what the ORM's JSON type writes), its C encoder made
    once: `dumps` makes one for each value, 40 % of the time a message's raw payload took.
    Only the check for circular references is left out: the values are parsed JSON."""
    make = json.encoder.c_make_encoder  # type: ignore[attr-defined]
    if make is None:  # an interpreter built without the C accelerator
        return json.dumps
    defaults = json.JSONEncoder()
    encode = make(None, defaults.default, json.encoder.encode_basestring_ascii, None,
                  defaults.key_separator, defaults.item_separator, False, False, True)
    return lambda value: "".join(encode(value, 0))


json_text = _json_encoder()


def sqlite_time(value: datetime) -> str:
    """What SQLModel's UTC datetime type stores on SQLite: naive UTC text with microseconds
    (`2026-01-01 09:30:00.000000`), compared as text by SQLite. A naive value is refused, as
    the type refuses it."""
    if value.tzinfo is UTC:  # as connectors parse them: the offset's 6 characters cut off
        return value.isoformat(" ", "microseconds")[:26]
    if value.tzinfo is None:
        raise ValueError("Datetime values must have timezone information")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


@functools.cache
def _sqlite_in(count: int) -> str:
    return f"IN ({', '.join('?' * count)})"


@functools.cache
def _sqlite_values(columns: int, rows: int) -> str:
    row = "(" + ", ".join("?" * columns) + ")"
    return "VALUES " + ", ".join([row] * rows)
