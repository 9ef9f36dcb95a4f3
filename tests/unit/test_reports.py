"""CSV cells: safe in a spreadsheet, faithful through Python's csv reader."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialdesk.reports import FORMULA_TRIGGERS, safe_cell, write_csv


@pytest.mark.parametrize("cell", ["=1+1", "+39 347", "-2", "@SUM(A1)", "\tx", "\rx",
                                  '=HYPERLINK("http://evil")'])
def test_a_cell_a_spreadsheet_would_run_is_neutralised(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell


def test_plain_values_are_left_as_they_are() -> None:
    assert safe_cell("ciao") == "ciao"
    assert safe_cell(42) == 42
    assert safe_cell(None) is None
    assert safe_cell(True) == "true"


def test_times_are_iso_8601_utc() -> None:
    rome = timezone(timedelta(hours=1))
    assert safe_cell(datetime(2026, 11, 30, 10, 15, tzinfo=rome)) == "2026-11-30T09:15:00Z"


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_any_text_round_trips_through_the_csv_reader(cells: list[str]) -> None:
    out = io.StringIO(newline="")
    write_csv(out, [f"c{i}" for i in range(len(cells))], [cells])
    (row,) = list(csv.reader(io.StringIO(out.getvalue(), newline="")))[1:]
    expected = ["'" + c if c.startswith(FORMULA_TRIGGERS) else c for c in cells]
    assert row == expected


@given(st.lists(st.text(), min_size=3, max_size=3))
def test_text_columns_are_neutralised_when_the_others_come_ready(cells: list[str]) -> None:
    """With `text_columns`, only those are checked: the rest is the database's own text."""
    out = io.StringIO(newline="")
    write_csv(out, ["a", "b", "c"], [(cells[0], cells[1], cells[2])], text_columns=(0, 2))
    (row,) = list(csv.reader(io.StringIO(out.getvalue(), newline="")))[1:]
    safe = ["'" + c if c.startswith(FORMULA_TRIGGERS) else c for c in cells]
    assert row == [safe[0], cells[1], safe[2]]


def test_excel_output_is_semicolon_separated_with_a_bom() -> None:
    out = io.StringIO(newline="")
    write_csv(out, ["a", "b"], [["x;y", "z"]], excel=True)
    text = out.getvalue()
    assert text.startswith("\ufeffa;b\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows == [["a", "b"], ["x;y", "z"]]


def test_moment_in_utc_is_unchanged() -> None:
    assert safe_cell(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
