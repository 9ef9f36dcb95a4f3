"""`socialdesk report`: a CSV report to a file or stdout, or the summary table."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.clock import system_clock
from socialdesk.config import Settings, load_settings
from socialdesk.errors import UsageError
from socialdesk.progress import RowsProgress
from socialdesk.store.db import open_configured_store

if TYPE_CHECKING:
    from socialdesk.reports import ReportRequest


@dataclass(frozen=True)
class ReportCommand:
    """What `socialdesk report` was asked, before the config is read."""

    kind: str
    since: date | None
    until: date | None
    account: str | None
    unmask: bool
    excel: bool
    actor: str | None
    as_json: bool = False
    workbook: bool = False
    """`-o FILE.xlsx`: an Excel workbook instead of CSV."""

    def __post_init__(self) -> None:
        """Refused before any file is opened: the other kind would silently ignore these."""
        if self.workbook and (self.excel or self.kind == "summary"):
            raise UsageError("-o FILE.xlsx writes a workbook of a CSV kind; --excel is for "
                             "CSV, and summary prints a table" if self.excel else
                             "summary prints a table; -o FILE.xlsx applies to the CSV kinds")
        if self.kind != "summary":
            if self.as_json:
                raise UsageError(f"--json applies to summary; {self.kind} is a CSV report")
            return
        given = [option for option, on in (("--excel", self.excel), ("--unmask", self.unmask))
                 if on]
        if given:
            raise UsageError(f"summary prints a table; {' and '.join(given)} apply to the CSV "
                             "kinds (conversations, messages, agents, daily, redirects)")


def run_workbook_report(config_path: Path, command: ReportCommand, target: Path,
                        err: TextIO | None = None) -> int:
    """Write the report as an .xlsx workbook at `target`, atomically (0600 with --unmask),
    its progress on `err` (stderr) when that is a terminal."""
    from socialdesk.reports import write_workbook_report
    from socialdesk.reports.csvout import atomic_path

    settings, engine, request = _prepared(config_path, command)
    with (Session(engine) as session,
          atomic_path(target, private=command.unmask) as temporary,
          _progress(err or sys.stderr, command.kind, shown=True) as shown):
        return write_workbook_report(session, settings, request, temporary,
                                     now=system_clock(), progress=shown.rows)


def _prepared(config_path: Path, command: ReportCommand
              ) -> tuple[Settings, Engine, ReportRequest]:
    from socialdesk.reports import ReportPeriod, ReportRequest

    settings = load_settings(config_path)
    if command.account:
        settings.account(command.account)
    engine = open_configured_store(settings)
    request = ReportRequest(
        kind=command.kind,
        period=ReportPeriod.from_local_dates(command.since, command.until, settings.desk_zone),
        account=command.account, unmask=command.unmask, excel=command.excel,
        operator=command.actor,
    )
    return settings, engine, request


def run_report(config_path: Path, command: ReportCommand, out: TextIO,
               err: TextIO | None = None) -> int:
    """Write the report to `out`, its progress to `err` (stderr) when that is a terminal;
    the reports package is loaded only for this command."""
    from socialdesk.reports import write_report

    settings, engine, request = _prepared(config_path, command)
    with Session(engine) as session:
        if command.kind == "summary":
            return print_summary(session, settings, request, command.as_json, out)
        with _progress(err or sys.stderr, command.kind, shown=not out.isatty()) as shown:
            return write_report(session, settings, request, for_eyes(out), now=system_clock(),
                                progress=shown.rows)


def _progress(err: TextIO, kind: str, shown: bool) -> RowsProgress:
    """Rows written so far, on stderr while a long report goes to a file or a pipe: only
    when stderr is a terminal, and never when the report itself is printed on it."""
    return RowsProgress(err, f"{kind} report", shown)


def for_eyes(out: TextIO) -> TextIO:
    """On a terminal, control characters in customer text are shown as marks (`TerminalText`);
    to a file or a pipe the CSV is written as it is."""
    from socialdesk.reports.csvout import TerminalText

    if not out.isatty():
        return out
    return cast(TextIO, TerminalText(out))  # a TextIOBase: everything csv and write_csv use


def print_summary(
    session: Session, settings: Settings, request: ReportRequest, as_json: bool, out: TextIO
) -> int:
    """The summary table, or its figures as one JSON object; the last seven days unless
    --since/--until say otherwise."""
    from socialdesk.reports.summary import default_period, summary_json, summary_rows

    now = system_clock()
    period = request.period if request.period.since or request.period.until else (
        default_period(now))
    rows = summary_rows(session, settings, period, now, request.account)
    if as_json:
        print(json.dumps(summary_json(period, rows), indent=2), file=out)
        return 0
    from rich.console import Console

    from socialdesk.reports.summary import summary_table

    Console(file=out).print(summary_table(period, rows, settings.desk_zone))
    return 0
