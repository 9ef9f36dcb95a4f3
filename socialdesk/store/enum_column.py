"""A column type for the store's enums: the text value in the database, the member in Python."""

from __future__ import annotations

from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy import Dialect, TypeDecorator
from sqlmodel import AutoString

_Enum = TypeVar("_Enum", bound=StrEnum)


class StoredEnum(TypeDecorator[_Enum], Generic[_Enum]):
    """A `StrEnum` stored as its plain text value, read back as the enum member.

    The column stays the VARCHAR it always was (no database enum type, no migration), so
    the database, the CSV reports and `==` against the text keep working; only Python sees
    the member.
    """

    impl = AutoString
    cache_ok = True

    def __init__(self, enum_class: type[_Enum]) -> None:
        super().__init__()
        self.enum_class = enum_class
        self._members = {member.value: member for member in enum_class}
        """A dict lookup, not `enum_class(value)`: reports read a million rows."""

    def process_bind_param(
        self, value: _Enum | str | None, dialect: Dialect  # noqa: ARG002  (SQLAlchemy's)
    ) -> str | None:
        return None if value is None else str(value)

    def process_result_value(
        self, value: str | None, dialect: Dialect  # noqa: ARG002  (SQLAlchemy's)
    ) -> _Enum | None:
        return None if value is None else self._members[value]
