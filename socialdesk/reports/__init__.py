"""CSV reports: streamed from the database, masked by default, safe to open in a spreadsheet."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.config import Settings
from socialdesk.desk.roles import Permission, require
from socialdesk.errors import UsageError
from socialdesk.privacy.detect import Detector
from socialdesk.reports.csvout import (
    FORMULA_TRIGGERS,
    ReportPeriod,
    atomic_output,
    safe_cell,
    write_csv,
    write_csv_batches,
)
from socialdesk.reports.figures import conversation_cells
from socialdesk.reports.kinds import (
    AGENTS_COLUMNS,
    CONVERSATIONS_COLUMNS,
    CONVERSATIONS_TEXT_COLUMNS,
    DAILY_COLUMNS,
    REDIRECTS_COLUMNS,
    agent_rows,
    daily_rows,
    redirect_rows,
)
from socialdesk.reports.message_export import (
    MESSAGES_COLUMNS,
    MESSAGES_TEXT_COLUMNS,
    message_batches,
    message_rows,
    text_masker,
)
from socialdesk.store.models import AuditEntry

__all__ = [
    "FORMULA_TRIGGERS", "MESSAGES_COLUMNS", "MESSAGES_TEXT_COLUMNS", "REPORT_KINDS",
    "ReportPeriod", "ReportRequest", "atomic_output", "message_rows", "safe_cell", "text_masker",
    "write_csv", "write_report",
]


@dataclass(frozen=True)
class ReportRequest:
    kind: str
    period: ReportPeriod
    account: str | None = None
    unmask: bool = False
    excel: bool = False
    operator: str | None = None
    workbook: bool = False
    """For `write_workbook_report`: typed cells are never formulas, so texts come unguarded."""


def _messages(session: Session, settings: Settings, request: ReportRequest,
              _now: datetime) -> Iterable[list[Sequence[Any]]]:
    masker = None if request.unmask else text_masker(_detector(settings))
    return message_batches(session, request.period, masker, request.account,
                           guarded=not request.workbook)


def _detector(settings: Settings) -> Detector:
    privacy = settings.privacy
    return Detector(regions=privacy.phone_regions, custom_patterns=privacy.patterns,
                    own_numbers=privacy.own_numbers)


def _with_figures(rows: Callable[..., Iterable[Sequence[Any]]]) -> Callable[..., Any]:
    def build(session: Session, settings: Settings, request: ReportRequest,
              now: datetime) -> Iterable[Sequence[Any]]:
        return rows(session, settings, request.period, now, request.account)

    return build


def _redirects(session: Session, _settings: Settings, request: ReportRequest,
               _now: datetime) -> Iterable[Sequence[Any]]:
    return redirect_rows(session, request.period, request.account)


class ReportKind(NamedTuple):
    header: tuple[str, ...]
    rows: Callable[..., Iterable[Any]]
    text_columns: tuple[int, ...] | None = None
    """See `write_csv`: None checks every cell."""
    batched: bool = False
    """`rows` gives lists of rows whose cells are all CSV-ready (`write_csv_batches`)."""


REPORT_KINDS: dict[str, ReportKind] = {
    "conversations": ReportKind(
        CONVERSATIONS_COLUMNS, _with_figures(conversation_cells), CONVERSATIONS_TEXT_COLUMNS),
    "messages": ReportKind(MESSAGES_COLUMNS, _messages, MESSAGES_TEXT_COLUMNS, batched=True),
    "agents": ReportKind(AGENTS_COLUMNS, _with_figures(agent_rows)),
    "daily": ReportKind(DAILY_COLUMNS, _with_figures(daily_rows)),
    "redirects": ReportKind(REDIRECTS_COLUMNS, _redirects),
}
"""Only `messages` carries customer text; the others carry types."""


def write_report(session: Session, settings: Settings, request: ReportRequest,
                 out: TextIO, *, now: datetime,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write one report as CSV; an unmasked one is refused unless config allows the
    operator, and is recorded in the audit log (it is a reveal). `progress` hears the rows
    written so far, every `PROGRESS_ROWS` or so."""
    kind = _authorised_kind(session, settings, request, now)
    rows = kind.rows(session, settings, request, now)
    if kind.batched:
        return write_csv_batches(out, kind.header, rows, excel=request.excel,
                                 progress=progress)
    if progress is not None:
        rows = _counted(rows, progress)
    return write_csv(out, kind.header, rows, excel=request.excel,
                     text_columns=kind.text_columns)


PROGRESS_ROWS = 1000


def write_workbook_report(session: Session, settings: Settings, request: ReportRequest,
                          path: Path, *, now: datetime,
                          progress: Callable[[int], None] | None = None,
                          sheet_rows: int | None = None) -> int:
    """Write one report as an .xlsx workbook at `path` (`workbook.write_workbook`), times in
    the desk's zone; unmasking is allowed and audited as for CSV. `sheet_rows` defaults to
    a sheet's limit. XlsxWriter loads here, not with the package: it added 38 ms to every
    CSV report and `run` start."""
    from socialdesk.reports.workbook import SHEET_ROWS, write_workbook

    request = replace(request, workbook=True)
    kind = _authorised_kind(session, settings, request, now)
    rows = kind.rows(session, settings, request, now)
    if kind.batched:
        rows = itertools.chain.from_iterable(rows)
    return write_workbook(path, request.kind, kind.header, rows, settings.desk_zone,
                          sheet_rows=sheet_rows or SHEET_ROWS, progress=progress)


def _counted(rows: Iterable[Sequence[Any]], progress: Callable[[int], None]
             ) -> Iterator[Sequence[Any]]:
    count = 0
    for count, row in enumerate(rows, 1):
        yield row
        if count % PROGRESS_ROWS == 0:
            progress(count)
    progress(count)


def _authorised_kind(session: Session, settings: Settings, request: ReportRequest,
                     now: datetime) -> ReportKind:
    """The kind asked for, once an unmasked report is allowed and audited."""
    if request.kind not in REPORT_KINDS:
        raise UsageError(f"unknown report kind {request.kind!r}; "
                         f"kinds: {', '.join(REPORT_KINDS)}")
    if request.unmask:
        _authorise_unmask(session, settings, request, now)
    return REPORT_KINDS[request.kind]


def _authorise_unmask(
    session: Session, settings: Settings, request: ReportRequest, now: datetime
) -> None:
    operator = request.operator or settings.operator.initials
    bind = session.get_bind()
    require(settings, bind if isinstance(bind, Engine) else None, operator, Permission.UNMASK)
    period = request.period
    session.add(AuditEntry(
        at=now, actor=operator, action="report.unmask", target_type="report",
        target_id=request.kind,
        detail={"since": period.since.isoformat() if period.since else None,
                "until": period.until.isoformat() if period.until else None,
                "account": request.account},
    ))
    session.commit()
