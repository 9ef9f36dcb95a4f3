"""What the CLI commands do, between parsing and printing: load config, open the store, call."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
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
from socialdesk.sync import AccountResult, sync_accounts

if TYPE_CHECKING:
    from socialdesk.reports import ReportRequest


def open_configured_store(settings: Settings) -> Engine:
    return open_store(settings.database.effective_url)


def run_sync(config_path: Path, account_names: tuple[str, ...], err: TextIO) -> int:
    """One pass; exit 0 only when every account synced, one stderr line per failed account."""
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
    return report_sync_results(results, err)


def report_sync_results(results: list[AccountResult], err: TextIO) -> int:
    failed = 0
    for result in results:
        if result.skipped:
            print(f"{result.account}: skipped: {result.skipped}", file=err)
        elif not result.ok:
            failed += 1
            print(f"{result.account}: failed: {result.failure_reason()}", file=err)
        else:
            print(f"{result.account}: {_summary(result)}", file=err)
    return 1 if failed else 0


def _summary(result: AccountResult) -> str:
    parts = []
    for stream in result.streams:
        text = f"{stream.stream} +{stream.new_messages}"
        if stream.quarantined:
            text += f" ({stream.quarantined} quarantined: `socialdesk quarantine` lists them)"
        if stream.recovered:
            text += f" ({stream.recovered} recovered from quarantine)"
        if stream.skipped_until:
            text += f" (rate limited until {stream.skipped_until:%H:%M} UTC, skipped)"
        parts.append(text)
    return ", ".join(parts) or "nothing to pull"


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
