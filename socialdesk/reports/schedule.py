"""Reports written on a schedule by `socialdesk run` (`[[reports.schedule]]` in config)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.config import ScheduledReport, Settings
from socialdesk.reports import ReportPeriod, ReportRequest, atomic_output, write_report


def previous_period(length: str, now: datetime, zone: tzinfo) -> tuple[date, date]:
    """The whole day, week (Monday to Sunday) or month before `now`, in days of `zone`
    (the desk's), as (first day, last day) inclusive."""
    today = now.astimezone(zone).date()
    if length == "day":
        yesterday = today - timedelta(days=1)
        return yesterday, yesterday
    if length == "week":
        this_monday = today - timedelta(days=today.weekday())
        return this_monday - timedelta(days=7), this_monday - timedelta(days=1)
    first_of_month = today.replace(day=1)
    last_of_previous = first_of_month - timedelta(days=1)
    return last_of_previous.replace(day=1), last_of_previous


def output_path(entry: ScheduledReport, first: date, last: date, today: date) -> Path:
    """The entry's path with `{kind}`, `{since}`, `{until}` and `{date}` filled in."""
    filled = entry.output.format(kind=entry.kind, since=first.isoformat(),
                                 until=last.isoformat(), date=today.isoformat())
    return Path(filled).expanduser()


def run_scheduled_report(
    engine: Engine, settings: Settings, entry: ScheduledReport, now: datetime
) -> tuple[Path, int]:
    """Write one scheduled report atomically; returns where and how many rows."""
    zone = settings.desk_zone
    first, last = previous_period(entry.period, now, zone)
    target = output_path(entry, first, last, now.astimezone(zone).date())
    request = ReportRequest(kind=entry.kind,
                            period=ReportPeriod.from_local_dates(first, last, zone),
                            account=entry.account, excel=entry.excel)
    with Session(engine) as session, atomic_output(target) as out:
        rows = write_report(session, settings, request, out, now=now)
    return target, rows
