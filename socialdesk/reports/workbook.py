"""`-o FILE.xlsx`: a report as a real workbook, for people who open it in a spreadsheet.

A CSV cannot keep a 19-digit id as text in Excel or Calc (it shows `1.86E+018`, and no CSV
trick keeps it without a formula), nor say which cells are dates. A workbook can: every cell
is written with its type (`write_string`, `write_number`, `write_datetime`,
`write_boolean`), so an id stays text to its last digit and no cell is ever a formula,
whatever a customer wrote. XlsxWriter's constant-memory mode writes each row as it comes, so
memory stays flat over a million rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

import xlsxwriter

SHEET_ROWS = 1_048_576
"""Excel's rows per sheet, the header included; a longer report goes on over more sheets."""
PROGRESS_ROWS = 1000
_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_DAY_FORMAT = "yyyy-mm-dd"
_WIDTHS = {"time": 20, "day": 12, "id": 22, "text": 60}
_WIDE_TEXT = {"text", "actions", "customer_handle", "author_handle"}


def column_kind(name: str) -> str:
    """How a report column is typed in a workbook, from its name (the CSV contract's names:
    `…_at` times, `day`, `…_id` ids, flags)."""
    if name.endswith("_at"):
        return "time"
    if name == "day":
        return "day"
    if name.endswith("_id"):
        return "id"
    if name in ("has_pii", "sla_met", "redirected"):
        return "flag"
    return "text" if name in _WIDE_TEXT else "value"


def write_workbook(
    path: Path,
    sheet_name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    zone: tzinfo,
    *,
    sheet_rows: int = SHEET_ROWS,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write `rows` (cells as the CSV reports build them, text not formula-guarded) to a
    workbook at `path`; returns the number of data rows. Times (ISO 8601 UTC text or
    datetimes) become date-times in `zone`, named in their column's header; each sheet has a
    frozen header with filters, and holds at most `sheet_rows` rows, header included."""
    if sheet_rows < 2:
        raise ValueError("a sheet holds the header and at least one row")
    kinds = [column_kind(name) for name in header]
    workbook = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False})
    sheet = _Sheets(workbook, sheet_name, header, kinds, zone)
    count = 0
    try:
        for row in rows:
            sheet.append(row, sheet_rows)
            count += 1
            if progress is not None and count % PROGRESS_ROWS == 0:
                progress(count)
        sheet.finish()
    finally:
        workbook.close()
    if progress is not None:
        progress(count)
    return count


class _Sheets:
    """The sheet being written and the ones before it (`name`, `name 2`, `name 3`…)."""

    def __init__(self, workbook: Any, name: str, header: Sequence[str], kinds: list[str],
                 zone: tzinfo) -> None:
        self._workbook = workbook
        self._name = name
        self._header = [_header_cell(column, kind, zone) for column, kind in zip(
            header, kinds, strict=True)]
        self._kinds = kinds
        self._zone = zone
        self._formats = {"time": workbook.add_format({"num_format": _TIME_FORMAT}),
                         "day": workbook.add_format({"num_format": _DAY_FORMAT})}
        self._bold = workbook.add_format({"bold": True})
        self._sheets = 0
        self._sheet: Any = None
        self._row = 0

    def append(self, row: Sequence[Any], sheet_rows: int) -> None:
        if self._sheet is None:
            self._start()
        elif self._row >= sheet_rows:
            self.finish()
            self._start()
        for column, (kind, cell) in enumerate(zip(self._kinds, row, strict=True)):
            self._write(column, kind, cell)
        self._row += 1

    def _start(self) -> None:
        self._sheets += 1
        name = self._name if self._sheets == 1 else f"{self._name} {self._sheets}"
        self._sheet = self._workbook.add_worksheet(name)
        for column, kind in enumerate(self._kinds):
            width = _WIDTHS.get(kind, max(12, len(self._header[column]) + 2))
            self._sheet.set_column(column, column, width)
        for column, title in enumerate(self._header):
            self._sheet.write_string(0, column, title, self._bold)
        self._sheet.freeze_panes(1, 0)
        self._row = 1

    def finish(self) -> None:
        """Filters over the sheet's header and rows (or the header alone, when empty)."""
        if self._sheet is None:
            self._start()
        self._sheet.autofilter(0, 0, max(self._row - 1, 0), len(self._header) - 1)

    def _write(self, column: int, kind: str, cell: Any) -> None:
        sheet, row = self._sheet, self._row
        if cell is None or cell == "":
            return
        if kind == "time":
            sheet.write_datetime(row, column, _local(cell, self._zone), self._formats["time"])
        elif kind == "day":
            sheet.write_datetime(row, column, _day(cell), self._formats["day"])
        elif kind == "flag" and cell in ("true", "false", True, False):
            sheet.write_boolean(row, column, cell in ("true", True))
        elif kind != "id" and cell.__class__ in (int, float):
            sheet.write_number(row, column, cell)
        else:
            sheet.write_string(row, column, str(cell))


def _header_cell(column: str, kind: str, zone: tzinfo) -> str:
    """A time column names its zone: the cells are local date-times, which carry none."""
    return f"{column} ({zone})" if kind == "time" else column


def _local(cell: datetime | str, zone: tzinfo) -> datetime:
    """A report time (`2026-11-30T09:30:00Z` or an aware datetime) as the naive local
    date-time a spreadsheet shows, in `zone`."""
    moment = cell if isinstance(cell, datetime) else datetime.fromisoformat(
        cell.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).replace(tzinfo=None)


def _day(cell: date | str) -> date:
    return cell if isinstance(cell, date) else date.fromisoformat(cell)
