"""What the CLI commands do, between parsing and printing: load config, open the store, call."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.clock import system_clock
from socialdesk.config import PrivacySettings, Settings, load_settings
from socialdesk.db import open_store, refresh_statistics
from socialdesk.errors import ConfigError, UsageError
from socialdesk.privacy.detect import Detector
from socialdesk.progress import SyncProgress
from socialdesk.sync import AccountResult, StreamResult, sync_accounts

if TYPE_CHECKING:
    from socialdesk.reports import ReportRequest


def open_configured_store(settings: Settings) -> Engine:
    return open_store(settings.database.effective_url)


EXIT_SYNCED = 0
EXIT_FAILED = 1
EXIT_DEFERRED = 75
"""EX_TEMPFAIL (sysexits.h): nothing failed, but something waits for a later pass (a rate
limit, a page cap, another process holding the account); cron's "try again later"."""


def run_sync(config_path: Path, account_names: tuple[str, ...], err: TextIO) -> int:
    """One pass; one stderr line per account; the exit code of `sync_exit_code`."""
    settings = load_settings(config_path)
    if not settings.accounts:
        raise ConfigError(f"{config_path}: accounts: no [[accounts]] configured")
    for name in account_names:
        settings.account(name)
    engine = open_configured_store(settings)
    with SyncProgress(err) as progress:
        results = sync_accounts(settings, engine, account_names or None, on_page=progress.page,
                                clock=system_clock)
    refresh_statistics(engine)
    return report_sync_results(results, err, system_clock())


def report_sync_results(results: list[AccountResult], err: TextIO, now: datetime) -> int:
    """Print what each account did and when what it left resumes; return the exit code."""
    for result in results:
        print(f"{result.account}: {account_line(result, now)}", file=err)
    return sync_exit_code(results)


def sync_exit_code(results: list[AccountResult]) -> int:
    """1 when anything failed (it wins: a human must look), 75 when something was only
    deferred, 0 when every account was pulled to its end."""
    if any(result.failed for result in results):
        return EXIT_FAILED
    if any(result.deferred for result in results):
        return EXIT_DEFERRED
    return EXIT_SYNCED


def account_line(result: AccountResult, now: datetime) -> str:
    if result.skipped:
        return f"deferred: {result.skipped}; it resumes on the next sync after that one ends"
    if result.failed:
        others = [_stream_summary(s, now) for s in result.streams if not s.failed]
        return "; ".join([f"failed: {result.failure_reason()}", *others])
    return ", ".join(_stream_summary(s, now) for s in result.streams) or "nothing to pull"


def _stream_summary(stream: StreamResult, now: datetime) -> str:
    text = f"{stream.stream} +{stream.new_messages}"
    if stream.quarantined:
        text += f" ({stream.quarantined} quarantined: `socialdesk quarantine` lists them)"
    if stream.recovered:
        text += f" ({stream.recovered} recovered from quarantine)"
    if stream.deferral:
        skipped = ", skipped" if stream.skipped_until else ""
        text += f" (deferred: {stream.deferral}{skipped}; {resume_text(stream.resumes_at, now)})"
    return text


def resume_text(at: datetime | None, now: datetime) -> str:
    """"resumes at 12:15:04 UTC" (with the date when it is not today), or at the next sync."""
    if at is None or at <= now:
        return "resumes on the next sync"
    at = at.astimezone(UTC)
    shape = "%H:%M:%S" if at.date() == now.astimezone(UTC).date() else "%Y-%m-%d %H:%M:%S"
    return f"resumes at {at.strftime(shape)} UTC"


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

    def __post_init__(self) -> None:
        """Refused before any file is opened: summary would silently ignore these."""
        if self.kind != "summary":
            return
        given = [option for option, on in (("--excel", self.excel), ("--unmask", self.unmask))
                 if on]
        if given:
            raise UsageError(f"summary prints a table; {' and '.join(given)} apply to the CSV "
                             "kinds (conversations, messages, agents, daily, redirects)")


def run_report(config_path: Path, command: ReportCommand, out: TextIO) -> int:
    """Write the report to `out`; the reports package is loaded only for this command."""
    from socialdesk.reports import ReportPeriod, ReportRequest, write_report

    settings = load_settings(config_path)
    if command.account:
        settings.account(command.account)
    engine = open_configured_store(settings)
    request = ReportRequest(
        kind=command.kind,
        period=ReportPeriod.from_local_dates(command.since, command.until),
        account=command.account, unmask=command.unmask, excel=command.excel,
        operator=command.actor,
    )
    with Session(engine) as session:
        if command.kind == "summary":
            return print_summary(session, settings, request, out)
        return write_report(session, settings, request, out, now=system_clock())


def print_summary(
    session: Session, settings: Settings, request: ReportRequest, out: TextIO
) -> int:
    """The summary table; the last seven days unless --since/--until say otherwise."""
    from rich.console import Console

    from socialdesk.reports.summary import default_period, summary_table

    now = system_clock()
    period = request.period if request.period.since or request.period.until else (
        default_period(now))
    Console(file=out).print(summary_table(session, settings, period, now, request.account))
    return 0


def run_privacy_scan(config_path: Path, lines: TextIO, out: TextIO) -> int:
    """Uses the config's privacy settings when a config exists, the defaults otherwise."""
    from socialdesk.privacy.scan import scan_lines

    privacy = load_settings(config_path).privacy if config_path.exists() else PrivacySettings()
    detector = Detector(
        regions=privacy.phone_regions,
        custom_patterns=privacy.patterns,
        own_numbers=privacy.own_numbers,
    )
    return scan_lines(lines, out, detector)




def run_quarantine_list(
    config_path: Path, include_resolved: bool, account: str | None, as_json: bool, out: TextIO
) -> int:
    """The set-aside items, tab-separated or as JSON lines; returns how many were listed."""
    from socialdesk.quarantine import list_quarantined

    settings = load_settings(config_path)
    if account:
        settings.account(account)
    engine = open_configured_store(settings)
    rows = list_quarantined(engine, include_resolved=include_resolved, account=account)
    if as_json:
        print(json.dumps([row.as_dict() for row in rows], indent=2), file=out)
        return len(rows)
    print("id\taccount\tstream\tplatform_id\treason\treceived_at\tattempts\tlast_attempt_at"
          + ("\tresolved_at" if include_resolved else ""), file=out)
    for row in rows:
        cells = row.as_dict()
        values = [cells[name] for name in ("id", "account", "stream", "platform_id", "reason",
                                          "received_at", "attempts", "last_attempt_at")]
        if include_resolved:
            values.append(cells["resolved_at"])
        print("\t".join("" if value is None else str(value).replace("\t", " ")
                        for value in values), file=out)
    return len(rows)
