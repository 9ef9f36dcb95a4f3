"""Time columns in SQL, the same on SQLite and PostgreSQL: the reports and the dashboard let
the database format and subtract times instead of reading each one into Python."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, func, type_coerce


def utc_text(column: Any, dialect_name: str) -> Any:
    """The column as `YYYY-MM-DD HH:MM:SS.ffffff` UTC text: what SQLAlchemy stores on
    SQLite, and the same text formatted from a timestamptz on PostgreSQL."""
    if dialect_name == "sqlite":
        return type_coerce(column, String)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS.US")


def utc_hour(column: Any, dialect_name: str) -> Any:
    """The UTC hour a time column falls in, as `YYYY-MM-DD HH` text: the unit a count per
    day in any whole-hour zone is summed from."""
    return func.substr(utc_text(column, dialect_name), 1, 13)


def seconds_between(start: Any, end: Any, dialect_name: str) -> Any:
    if dialect_name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)
