"""`socialdesk report summary`: the week at a glance, for people who would rather look than
open a spreadsheet (seed 003: "usually responds within…")."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from rich.table import Table
from sqlmodel import Session

from socialdesk.config import Settings
from socialdesk.reports.csvout import ReportPeriod
from socialdesk.reports.figures import ConversationFigures, conversation_figures, percentile
from socialdesk.reports.figures import sla_met_percent as met_percent
from socialdesk.reports.kinds import inbound_days

SUMMARY_DAYS = 7


def default_period(now: datetime) -> ReportPeriod:
    """The last seven days up to now."""
    return ReportPeriod(since=now - timedelta(days=SUMMARY_DAYS), until=now)


def summary_table(
    session: Session, settings: Settings, period: ReportPeriod, now: datetime,
    account: str | None = None,
) -> Table:
    by_channel: dict[str, list[ConversationFigures]] = defaultdict(list)
    for figures in conversation_figures(session, settings, period, now, account):
        by_channel[figures.channel].append(figures)
    inbound: dict[str, int] = defaultdict(int)
    for _day, channel in inbound_days(session, period, account):
        inbound[channel] += 1
    table = Table(title=_title(period))
    for column in ("channel", "messages in", "conversations", "answered",
                   "first response median", "p90", "SLA met"):
        table.add_column(column, justify="left" if column == "channel" else "right")
    for channel in sorted(set(by_channel) | set(inbound)):
        table.add_row(channel, *_cells(by_channel[channel], inbound[channel]))
    every = [f for group in by_channel.values() for f in group]
    table.add_section()
    table.add_row("all", *_cells(every, sum(inbound.values())), style="bold")
    return table


def _cells(figures: list[ConversationFigures], inbound: int) -> list[str]:
    minutes = [f.first_response_minutes for f in figures if f.first_response_minutes is not None]
    met = met_percent(figures)
    return [
        str(inbound), str(len(figures)), str(len(minutes)),
        _duration(percentile(minutes, 0.5)), _duration(percentile(minutes, 0.9)),
        "–" if met is None else f"{met:.0f}%",
    ]


def _duration(minutes: float | None) -> str:
    if minutes is None:
        return "–"
    if minutes < 60:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def _title(period: ReportPeriod) -> str:
    since = period.since.astimezone().strftime("%a %d %b") if period.since else "the start"
    until = period.until.astimezone().strftime("%a %d %b %H:%M") if period.until else "now"
    return f"From {since} to {until} (business time)"
