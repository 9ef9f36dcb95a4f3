"""`socialdesk sync`: one pass over the accounts, one stderr line per account, an exit code
cron can act on."""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import TextIO

from socialdesk.clock import system_clock, zone_time
from socialdesk.config import load_settings
from socialdesk.errors import ConfigError
from socialdesk.progress import SyncProgress
from socialdesk.store.db import open_configured_store, refresh_statistics
from socialdesk.sync import AccountResult, StreamResult, sync_accounts

EXIT_SYNCED = 0
EXIT_FAILED = 1
EXIT_DEFERRED = 75
"""EX_TEMPFAIL (sysexits.h): nothing failed, but something waits for a later pass (a rate
limit, a page cap, another process holding the account); cron's "try again later"."""


def run_sync(config_path: Path, account_names: tuple[str, ...], err: TextIO,
             quiet: bool = False) -> int:
    """One pass; one stderr line per account (per failed account when `quiet`, for cron's
    mail); the exit code of `sync_exit_code`."""
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
    return report_sync_results(results, err, system_clock(), settings.desk_zone, quiet)


def report_sync_results(results: list[AccountResult], err: TextIO, now: datetime,
                        zone: tzinfo, quiet: bool = False) -> int:
    """Print what each account did and when what it left resumes (only the accounts that
    failed when `quiet`: a deferral resumes by itself); return the exit code."""
    for result in results:
        if result.failed or not quiet:
            print(f"{result.account}: {account_line(result, now, zone)}", file=err)
    return sync_exit_code(results)


def sync_exit_code(results: list[AccountResult]) -> int:
    """1 when anything failed (it wins: a human must look), 75 when something was only
    deferred, 0 when every account was pulled to its end."""
    if any(result.failed for result in results):
        return EXIT_FAILED
    if any(result.deferred for result in results):
        return EXIT_DEFERRED
    return EXIT_SYNCED


def account_line(result: AccountResult, now: datetime, zone: tzinfo) -> str:
    if result.skipped:
        return f"deferred: {result.skipped}; it resumes on the next sync after that one ends"
    if result.failed:
        others = [_stream_summary(s, now, zone) for s in result.streams if not s.failed]
        return "; ".join([f"failed: {result.failure_reason()}", *others])
    return ", ".join(_stream_summary(s, now, zone) for s in result.streams) or "nothing to pull"


def _stream_summary(stream: StreamResult, now: datetime, zone: tzinfo) -> str:
    text = f"{stream.stream} +{stream.new_messages}"
    if stream.quarantined:
        text += f" ({stream.quarantined} quarantined: `socialdesk quarantine` lists them)"
    if stream.recovered:
        text += f" ({stream.recovered} recovered from quarantine)"
    if stream.deferral:
        skipped = ", skipped" if stream.skipped_until else ""
        resumes = resume_text(stream.resumes_at, now, zone)
        text += f" (deferred: {stream.deferral}{skipped}; {resumes})"
    return text


def resume_text(at: datetime | None, now: datetime, zone: tzinfo) -> str:
    """"resumes at 12:15:04 CET" (with the date when it is not today), or at the next sync."""
    if at is None or at <= now:
        return "resumes on the next sync"
    return f"resumes at {zone_time(at, zone, now)}"
