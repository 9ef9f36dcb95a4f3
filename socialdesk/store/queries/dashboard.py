"""The dashboard's figures: volumes, response times and unhealthy accounts. No writes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from connectors.base import Direction
from socialdesk.store.models import Health
from socialdesk.store.queries.queue import overdue_clause
from socialdesk.store.sqltime import seconds_between, utc_hour
from socialdesk.store.tables import ACCOUNT, CONVERSATION, MESSAGE


@dataclass(frozen=True)
class DashboardFigures:
    days: list[date]
    volumes: dict[str, list[int]]
    """Inbound messages per day, per channel, oldest day first."""
    first_response_median: timedelta | None
    first_response_p90: timedelta | None
    answered: int
    overdue: int = 0
    """Unresolved conversations past their first-response due time now (`overdue_clause`)."""


def dashboard_figures(engine: Engine, now: datetime, zone: tzinfo,
                      days: int = 14) -> DashboardFigures:
    """Volumes per channel per day and first-response times of conversations opened lately.

    Counted and measured by the database: reading every message of two weeks into Python
    took a second at a million messages, and the dashboard opens on a keystroke. Days are
    the desk's (`zone`), as everywhere a person reads a time: the database counts per UTC
    hour and each hour joins the day it begins on in `zone` (a zone half an hour off UTC
    counts that half hour of each midnight on one side)."""
    first_day = (now.astimezone(zone) - timedelta(days=days - 1)).date()
    start = datetime.combine(first_day, time.min, tzinfo=zone).astimezone(UTC)
    day_list = [first_day + timedelta(days=offset) for offset in range(days)]
    message = MESSAGE.c
    conversation = CONVERSATION.c
    dialect = engine.dialect.name
    hour = utc_hour(message.created_at, dialect)
    with Session(engine) as session:
        arrivals = session.exec(
            select(message.channel, hour, func.count())
            .where(message.created_at >= start, message.direction == Direction.INBOUND)
            .group_by(message.channel, hour)
        ).all()
        waits = sorted(float(seconds) for seconds in session.exec(  # PostgreSQL: Decimal
            select(seconds_between(conversation.opened_at, conversation.first_response_at,
                                   dialect))
            .where(conversation.opened_at >= start, conversation.first_response_at.is_not(None))
        ).all())
        overdue = int(session.exec(
            select(func.count()).select_from(CONVERSATION).where(overdue_clause(now))
        ).one())
    volumes: dict[str, list[int]] = {}
    for channel, hour_text, count in arrivals:
        began = datetime.fromisoformat(f"{hour_text}:00:00").replace(tzinfo=UTC)
        index = (began.astimezone(zone).date() - first_day).days
        if 0 <= index < days:
            volumes.setdefault(channel, [0] * days)[index] += count
    return DashboardFigures(
        days=day_list, volumes=dict(sorted(volumes.items())),
        first_response_median=_span(_quantile(waits, 0.5)),
        first_response_p90=_span(_quantile(waits, 0.9)),
        answered=len(waits), overdue=overdue,
    )


def _span(seconds: float | None) -> timedelta | None:
    """A measured wait, to the millisecond (julianday arithmetic is not exact below that)."""
    return None if seconds is None else timedelta(seconds=round(seconds, 3))


def _quantile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank quantile: a real measured wait, never an interpolated one."""
    if not values:
        return None
    rank = max(1, math.ceil(fraction * len(values)))
    return values[rank - 1]


def unhealthy_accounts(engine: Engine) -> list[tuple[str, str]]:
    """Accounts whose last sync needs a human (an expired token), with what to do."""
    account = ACCOUNT.c
    with Session(engine) as session:
        rows = session.exec(
            select(account.name, account.health_reason)
            .where(account.health == Health.UNHEALTHY).order_by(account.name)
        ).all()
    return [(name, reason or "the last sync failed") for name, reason in rows]
