"""`socialdesk privacy rescan`: apply changed detector settings to everything stored.

The desk, the reports and the guard read the spans ingest stored; after a change of
`[privacy]` phone regions, own numbers or patterns this command finds them again, so all
three keep agreeing (`socialdesk.privacy.rescan` says what happens to the guard's work).
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from socialdesk.clock import system_clock
from socialdesk.config import load_settings
from socialdesk.privacy.rescan import RescanReport, messages_to_rescan, rescan_store
from socialdesk.progress import CountedProgress
from socialdesk.store.db import open_configured_store


def run_privacy_rescan(config_path: Path, account: str | None, out: TextIO,
                       err: TextIO) -> int:
    """Rescan the named account (every configured one by default); prints what changed."""
    settings = load_settings(config_path)
    names = [settings.account(account).name] if account else [a.name for a in settings.accounts]
    engine = open_configured_store(settings)
    try:
        total = messages_to_rescan(engine, names)
        with CountedProgress(err, "rescanning messages", total) as progress:
            report = rescan_store(engine, settings, names, now=system_clock,
                                  on_batch=progress.advance)
    finally:
        engine.dispose()
    for line in summary_lines(report):
        print(line, file=out)
    return 0


def summary_lines(report: RescanReport) -> list[str]:
    """What changed, in counts; the last line says what the guard will do about it."""
    accounts = ", ".join(report.accounts) or "none with stored messages"
    lines = [
        f"rescanned {report.scanned} message(s) ({accounts}): {report.changed} changed",
        f"  now with personal data: {report.now_with_personal_data}",
        f"  no longer with personal data: {report.no_longer_with_personal_data} "
        "(privacy decisions already taken are kept)",
    ]
    if report.now_undecided:
        lines.append(f"  {report.now_undecided} public message(s) now wait for the privacy "
                     "guard: the next sync decides them")
    if report.no_longer_undecided:
        lines.append(f"  {report.no_longer_undecided} undecided public message(s) no longer "
                     "hold personal data: nothing left for the guard")
    return lines
