"""CSV writing that is safe to open in a spreadsheet and faithful through Python's csv reader."""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import String, case, func, literal, type_coerce

from socialdesk.paths import open_private
from socialdesk.privacy.mask import safe
from socialdesk.store.sqltime import utc_text

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""Cells a spreadsheet would run as formulas (OWASP CSV injection guidance)."""


class ExcelItalian(csv.excel):
    """`;`-separated, as spreadsheets in Italian locales expect."""

    delimiter = ";"


@dataclass(frozen=True)
class ReportPeriod:
    """Half-open [since, until) in UTC; either end may be open."""

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def from_local_dates(cls, since: date | None, until: date | None, zone: tzinfo
                         ) -> ReportPeriod:
        """Dates are days in the desk's zone (`[hours] timezone`), whatever the machine's
        `TZ`; `until` includes its whole day."""
        return cls(
            since=local_midnight_utc(since, zone) if since else None,
            until=(local_midnight_utc(date.fromordinal(until.toordinal() + 1), zone)
                   if until else None),
        )

    def narrow(self, statement: Any, moment: Any, account_name: Any, account: str | None) -> Any:
        """`statement` limited to rows whose `moment` column is in the period and, when
        given, to one account (by its name column)."""
        if self.since:
            statement = statement.where(moment >= self.since)
        if self.until:
            statement = statement.where(moment < self.until)
        if account:
            statement = statement.where(account_name == account)
        return statement

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        return (self.since is None or moment >= self.since) and (
            self.until is None or moment < self.until
        )


def local_midnight_utc(day: date, zone: tzinfo) -> datetime:
    """The start of `day` in `zone`, as aware UTC."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def stored_time(column: Any, dialect_name: str) -> Any:
    """The column as SQLite stores it (SQLAlchemy's own text format), elsewhere as is:
    SQLAlchemy's parsing of each time cost more than the rest of a report row, and
    `as_utc` reads that text in a tenth of the time (benchmarks/reports.py)."""
    if dialect_name != "sqlite":
        return column
    return type_coerce(column, String).label(getattr(column, "name", None))


def csv_time(column: Any, dialect_name: str) -> Any:
    """The column as its CSV cell, computed by the database: the same ISO 8601
    UTC text `safe_cell` writes for a datetime, to the whole second (`2026-01-05T09:30:07Z`),
    from the `YYYY-MM-DD HH:MM:SS.ffffff` SQLAlchemy stores on SQLite. Every time in every
    report has that one precision: a column mixing `…:07Z` and `…:07.482913Z` sorts and
    reads badly in a spreadsheet. Rows keep their exact order (the query orders by the
    stored time and the id). Parsing and formatting each time in Python was a third of a
    messages report's time."""
    stored = utc_text(column, dialect_name)
    text = func.replace(func.substr(stored, 1, 19), " ", "T")
    return type_coerce(text.concat("Z"), String).label(getattr(column, "name", None))


def csv_text(column: Any) -> Any:
    """A text column as its formula-safe CSV cell, computed by the database: a leading
    apostrophe before a formula trigger (`safe_cell`'s rule), so rows can go to
    `csv.writer` as they come."""
    guarded = case((func.substr(column, 1, 1).in_(FORMULA_TRIGGERS),
                    literal("'", String).concat(column)), else_=column)
    return type_coerce(guarded, String).label(getattr(column, "name", None))


def csv_flag(column: Any) -> Any:
    """A boolean column as its CSV cell (`true`/`false`), computed by the database."""
    return case((column, "true"), else_="false").label(getattr(column, "name", None))


def as_utc(value: datetime | str | None) -> datetime | None:
    """A time read through `stored_time`, as an aware UTC datetime."""
    if value is None or isinstance(value, datetime):
        return value
    # SQLAlchemy stores UTC without an offset; parsing it with one is 6x cheaper than
    # replacing the tzinfo afterwards
    return datetime.fromisoformat(value + "+00:00")


def safe_cell(value: Any) -> Any:
    """What a spreadsheet shows as text: formula triggers get a leading apostrophe.

    Strings are checked first (most cells); numbers pass through for csv to format.
    """
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    if value is None or kind is int or kind is float:
        return value
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, datetime):
        utc = value if value.tzinfo is UTC else value.astimezone(UTC)
        return utc.isoformat(timespec="seconds").replace("+00:00", "Z")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def write_csv(
    out: TextIO,
    header: Iterable[str],
    rows: Iterable[Sequence[Any]],
    excel: bool = False,
    text_columns: Sequence[int] | None = None,
) -> int:
    """Write header and rows; returns the number of data rows. BOM, `;` and decimal
    commas only for --excel.

    `text_columns` are the positions of cells that can hold text from outside (customers,
    platforms, the config); when given, every other cell must already be its CSV form
    (text the database computed, an int or None) and is written as is. Without it every
    cell goes through `safe_cell`.
    """
    writer: Any = csv.writer(out, dialect=ExcelItalian if excel else csv.excel)
    if excel:
        out.write("\ufeff")
        writer = _DecimalCommaWriter(writer)
    writer.writerow(list(header))
    if text_columns is None:
        return _write_any_cells(writer, rows)
    return _write_prepared_cells(writer, rows, text_columns)


def write_csv_batches(
    out: TextIO,
    header: Iterable[str],
    batches: Iterable[list[Sequence[Any]]],
    excel: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write header and rows given in lists whose every cell is already its CSV form
    (formula-safe text the database computed, ints, None): each list goes to
    `csv.writer.writerows` as it is. `progress` hears the rows written so far."""
    writer: Any = csv.writer(out, dialect=ExcelItalian if excel else csv.excel)
    if excel:
        out.write("\ufeff")
        writer = _DecimalCommaWriter(writer)
    writer.writerow(list(header))
    count = 0
    for batch in batches:
        writer.writerows(batch)
        count += len(batch)
        if progress is not None:
            progress(count)
    return count


class _DecimalCommaWriter:
    """--excel only: an Italian spreadsheet reads `103.9` as text or a date, `103,9` as a
    number. Floats are rewritten after the formula check, so a negative one stays a number;
    the default path never pays for it."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: Sequence[Any]) -> Any:
        return self._writer.writerow([
            repr(cell).replace(".", ",") if cell.__class__ is float else cell for cell in row
        ])

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def _write_any_cells(writer: Any, rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    triggers = FORMULA_TRIGGERS
    for row in rows:
        # safe_cell inlined for the two commonest cells (text and ints): a call per cell
        # was a quarter of a million-row report's time
        writer.writerow([
            ("'" + cell if cell.startswith(triggers) else cell) if cell.__class__ is str
            else cell if cell is None or cell.__class__ is int else safe_cell(cell)
            for cell in row
        ])
        count += 1
    return count


def _write_prepared_cells(
    writer: Any, rows: Iterable[Sequence[Any]], text_columns: Sequence[int]
) -> int:
    """Checks only the text columns: a check of every cell was a fifth of the time of a
    messages report whose other cells the database already wrote as CSV text."""
    count = 0
    triggers = FORMULA_TRIGGERS
    writerow = writer.writerow
    for row in rows:
        for index in text_columns:
            cell = row[index]
            if cell.__class__ is str and cell.startswith(triggers):
                row = (*row[:index], "'" + cell, *row[index + 1:])
        writerow(row)
        count += 1
    return count


class TerminalText(io.TextIOBase):
    """A report on a terminal: customer text can hold escape sequences (an OSC title or
    clipboard write in a comment) that the terminal would obey, so every control character
    is shown as a mark, as the desk shows it. Only the rows' CSV line ending stays. A file
    or a pipe gets the text unchanged: this is for eyes, not for tools."""

    def __init__(self, terminal: TextIO) -> None:
        super().__init__()
        self._terminal = terminal

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._terminal.write("\r\n".join(safe(line) for line in text.split("\r\n")))
        return len(text)

    def flush(self) -> None:
        self._terminal.flush()


@contextlib.contextmanager
def atomic_output(target: Path, *, private: bool = False) -> Iterator[TextIO]:
    """A file written beside `target` and renamed into place only when complete, so a
    reader (a spreadsheet, a sync client, cron mail) never sees half a report.
    `private` (an unmasked export: personal data in clear): the file is 0600 from its
    first byte, and so is the target it replaces."""
    with atomic_path(target, private=private) as temporary:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            yield handle


@contextlib.contextmanager
def atomic_path(target: Path, *, private: bool = False) -> Iterator[Path]:
    """`atomic_output` for a writer that opens the file itself (a workbook): the path of the
    file beside `target`, created before it is yielded (0600 when `private`: a writer that
    truncates it keeps the mode), renamed into place when the block ends without error."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        if private:
            os.close(open_private(temporary))
        else:
            temporary.touch()
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
