"""`socialdesk report summary`: the week at a glance, for people who would rather look than
open a spreadsheet (seed 003: "usually responds within…")."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, tzinfo

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


@dataclass(frozen=True)
class ChannelSummary:
    """One row of the summary: a channel's figures, or `all` of them, as numbers."""

    channel: str
    messages_in: int
    conversations: int
    answered: int
    first_response_median_minutes: float | None
    first_response_p90_minutes: float | None
    sla_met_percent: float | None

    @classmethod
    def of(cls, channel: str, figures: list[ConversationFigures], inbound: int
           ) -> ChannelSummary:
        minutes = [f.first_response_minutes for f in figures
                   if f.first_response_minutes is not None]
        return cls(channel, inbound, len(figures), len(minutes), percentile(minutes, 0.5),
                   percentile(minutes, 0.9), met_percent(figures))

    def cells(self) -> list[str]:
        met = self.sla_met_percent
        return [
            str(self.messages_in), str(self.conversations), str(self.answered),
            _duration(self.first_response_median_minutes),
            _duration(self.first_response_p90_minutes),
            "–" if met is None else f"{met:.0f}%",
        ]


def summary_rows(
    session: Session, settings: Settings, period: ReportPeriod, now: datetime,
    account: str | None = None,
) -> list[ChannelSummary]:
    """One row per channel, by name, then `all`: what the table and `--json` both show."""
    by_channel: dict[str, list[ConversationFigures]] = defaultdict(list)
    for figures in conversation_figures(session, settings, period, now, account):
        by_channel[figures.channel].append(figures)
    inbound: dict[str, int] = defaultdict(int)
    for _day, channel in inbound_days(session, period, account, settings.desk_zone):
        inbound[channel] += 1
    rows = [ChannelSummary.of(channel, by_channel[channel], inbound[channel])
            for channel in sorted(set(by_channel) | set(inbound))]
    every = [f for group in by_channel.values() for f in group]
    rows.append(ChannelSummary.of("all", every, sum(inbound.values())))
    return rows


def summary_table(period: ReportPeriod, rows: list[ChannelSummary], zone: tzinfo) -> Table:
    table = Table(title=_title(period, zone))
    for column in ("channel", "messages in", "conversations", "answered",
                   "first response median", "p90", "SLA met"):
        table.add_column(column, justify="left" if column == "channel" else "right")
    *channels, every = rows
    for row in channels:
        table.add_row(row.channel, *row.cells())
    table.add_section()
    table.add_row(every.channel, *every.cells(), style="bold")
    return table


def summary_json(period: ReportPeriod, rows: list[ChannelSummary]) -> dict[str, object]:
    """The same figures for scripts: minutes and percentages as numbers (null when there is
    none), the period's ends ISO 8601 with their offset (null for an open end)."""
    return {
        "since": period.since.isoformat(timespec="seconds") if period.since else None,
        "until": period.until.isoformat(timespec="seconds") if period.until else None,
        "channels": [asdict(row) for row in rows[:-1]],
        "all": asdict(rows[-1]),
    }


def _duration(minutes: float | None) -> str:
    if minutes is None:
        return "–"
    if minutes < 60:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


def _title(period: ReportPeriod, zone: tzinfo) -> str:
    """The period in the desk's zone, named."""
    since = period.since.astimezone(zone).strftime("%a %d %b") if period.since else "the start"
    until = (period.until.astimezone(zone).strftime("%a %d %b %H:%M %Z") if period.until
             else "now")
    return f"From {since} to {until} (business time)"
