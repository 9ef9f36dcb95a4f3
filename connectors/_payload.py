"""Strict reading of a platform object's fields, shared by the connectors' item parsers.

A field of a type the platform does not document is either read where only one reading
exists (an id sent as a JSON number is the same id as its digits) or refused with a
reason, so the item is set aside whole instead of being stored with empty text or, worse,
with the wrong direction (the Page's own post taken for a customer's).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

EXACT_FLOAT_LIMIT = 2**53
"""Whole numbers a JSON double holds exactly; past it an id sent as a float may be another id."""


def aware_time(value: Any) -> datetime | None:
    """An ISO 8601 time with its offset (X's `…000Z`, Graph's `…+0000`; Python 3.11 reads
    both) as aware UTC, or None when it is not text, not a time, or has no offset."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None


class WrongType(ValueError):
    """A field is present with a type that has no single reading; the message says which."""


def platform_id(value: Any, field: str) -> str | None:
    """An id as text, None when absent.

    Platforms send ids as strings; a JSON number is read as its digits when it is a whole
    number the number type holds exactly (an int, or a float below 2**53). Anything else
    (a boolean, an object, a fraction, a float too large to be exact) raises `WrongType`.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise WrongType(f"{field} is a boolean, not an id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_FLOAT_LIMIT:
        return str(int(value))
    raise WrongType(f"{field} is {kind_of(value)}, not an id")


def optional_text(value: Any, field: str) -> str | None:
    """A text field, None when absent; any other type raises `WrongType` (never read as "")."""
    if value is None or isinstance(value, str):
        return value
    raise WrongType(f"{field} is {kind_of(value)}, not text")


def kind_of(value: Any) -> str:
    """The JSON type of a value, in words, for a quarantine reason."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and not value.is_integer():
        return "a fraction"
    if isinstance(value, float) and abs(value) >= EXACT_FLOAT_LIMIT:
        return "a number too large to be exact"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


def str_or_none(value: Any) -> str | None:
    """A scalar as text, None when absent or an object, a list or a boolean (no single reading)."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    return str(value)


def data_list(body: Mapping[str, Any]) -> list[Any]:
    """`data` of a page; an empty page may have no `data` key at all."""
    data = body.get("data")
    return data if isinstance(data, list) else []
