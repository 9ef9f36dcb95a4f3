"""`report KIND -o FILE.xlsx`: a real workbook, read back as a spreadsheet would read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import Session

from connectors.base import Channel, Direction, InboundItem
from socialdesk.config import load_settings
from socialdesk.reports import ReportPeriod, ReportRequest, write_workbook_report
from socialdesk.store.db import open_configured_store
from tests.support import run_cli, x_desk_holding

MONDAY = datetime(2026, 11, 30, 9, 0, 7, 482913, tzinfo=UTC)
LONG_ID = "1860000000000000001"
"""An X id: as a number a spreadsheet keeps 15 digits and shows `1.86E+18`."""
TEXTS = ('=HYPERLINK("http://evil.example","click")', "+39 ciao", "ciao", "grazie", "aiuto")


def mention(number: int, text: str) -> InboundItem:
    return InboundItem(platform="x", external_id=str(int(LONG_ID) + number),
                       channel=Channel.MENTION, direction=Direction.INBOUND,
                       thread_key=str(number), text=text,
                       created_at=MONDAY + timedelta(hours=number), author_id=f"c{number}",
                       author_handle=f"customer_{number}")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    items = [mention(number, text) for number, text in enumerate(TEXTS)]
    path, engine, _ = x_desk_holding(tmp_path, "mentions", items, MONDAY)
    engine.dispose()
    return path


def export(config: Path, kind: str, target: Path, *options: str) -> None:
    result = run_cli("report", kind, "-o", str(target), *options, "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"{len(TEXTS)} rows\n"


def test_messages_keep_ids_times_and_text_as_typed_cells(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "messages.xlsx"
    export(config, "messages", target)
    sheet = load_workbook(target)["messages"]
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    assert header[8] == "created_at (Europe/Rome)" and header[4] == "external_id"
    first = {name: cell for name, cell in zip(header, rows[1], strict=True)}
    assert (first["external_id"].value, first["external_id"].data_type) == (LONG_ID, "s")
    # 09:00:07 UTC is 10:00:07 in Rome, a real date-time to the whole second
    rome = datetime(2026, 11, 30, 10, 0, 7, tzinfo=ZoneInfo("Europe/Rome"))
    assert first["created_at (Europe/Rome)"].value == rome.replace(tzinfo=None)
    assert first["created_at (Europe/Rome)"].is_date
    assert (first["text"].value, first["text"].data_type) == (TEXTS[0], "s")  # not a formula
    assert first["has_pii"].value is False
    assert first["conversation_id"].value == str(first["conversation_id"].value) != ""
    assert [row[9].value for row in rows[1:]] == list(TEXTS)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:K{len(TEXTS) + 1}"
    assert sheet.column_dimensions["J"].width > 3 * sheet.column_dimensions["C"].width


def test_conversation_figures_are_numbers(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "conversations.xlsx"
    export(config, "conversations", target)
    sheet = load_workbook(target)["conversations"]
    header = [cell.value for cell in next(sheet.iter_rows())]
    assert "opened_at (Europe/Rome)" in header and "sla_due_at (Europe/Rome)" in header
    row = next(sheet.iter_rows(min_row=2, values_only=True))
    cells = dict(zip(header, row, strict=True))
    assert isinstance(cells["opened_at (Europe/Rome)"], datetime)
    assert cells["customer_handle"] == "customer_0" and cells["redirected"] is False


def test_more_rows_than_a_sheet_holds_go_on_over_sheets(config: Path, tmp_path: Path) -> None:
    settings = load_settings(config)
    engine = open_configured_store(settings)
    target = tmp_path / "split.xlsx"
    with Session(engine) as session:
        written = write_workbook_report(
            session, settings, ReportRequest("messages", ReportPeriod()), target,
            now=MONDAY, sheet_rows=3)
    engine.dispose()
    workbook = load_workbook(target)
    assert written == len(TEXTS)
    assert workbook.sheetnames == ["messages", "messages 2", "messages 3"]
    texts = []
    for sheet in workbook.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][9] == "text" and sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:K{len(rows)}"
        texts += [row[9] for row in rows[1:]]
    assert texts == list(TEXTS)


def test_an_empty_report_is_a_header_with_filters(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "none.xlsx"
    result = run_cli("report", "redirects", "-o", str(target), "--config", str(config))
    assert (result.returncode, result.stderr) == (0, "0 rows\n")
    sheet = load_workbook(target)["redirects"]
    assert [cell.value for cell in next(sheet.iter_rows())][0] == "detected_at (Europe/Rome)"
    assert sheet.auto_filter.ref == "A1:J1"


@pytest.mark.parametrize("options", [("--excel",), ()])
def test_a_workbook_is_refused_with_excel_csv_or_for_the_summary(
    config: Path, tmp_path: Path, options: tuple[str, ...],
) -> None:
    kind = "messages" if options else "summary"
    result = run_cli("report", kind, "-o", str(tmp_path / "x.xlsx"), *options,
                     "--config", str(config))
    assert result.returncode == 2 and "-o FILE.xlsx" in result.stderr
    assert not (tmp_path / "x.xlsx").exists()


def test_an_unmasked_workbook_is_private(config: Path, tmp_path: Path) -> None:
    config.write_text(config.read_text() + '\n[reports]\nunmask_operators = ["AB"]\n')
    target = tmp_path / "clear.xlsx"
    export(config, "messages", target, "--unmask", "--as", "AB")
    assert target.stat().st_mode & 0o777 == 0o600
    assert [name for name in tmp_path.iterdir() if name.name.startswith(".")] == []
