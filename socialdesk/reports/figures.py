"""Per-conversation figures every report shares: first response and resolution in business
time, and whether the first answer came within the SLA."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlmodel import Session

from connectors.base import Direction
from socialdesk.config import Settings
from socialdesk.hours import BusinessHours, hours_for
from socialdesk.models import Account, Contact, Conversation, Handle, Message
from socialdesk.reports.csvout import ReportPeriod, as_utc, stored_time

CONVERSATION: Table = Conversation.__table__  # type: ignore[attr-defined]
ACCOUNT: Table = Account.__table__  # type: ignore[attr-defined]
HANDLE: Table = Handle.__table__  # type: ignore[attr-defined]
CONTACT: Table = Contact.__table__  # type: ignore[attr-defined]
MESSAGE: Table = Message.__table__  # type: ignore[attr-defined]
STREAM_BATCH = 1000


@dataclass(slots=True)
class ConversationFigures:
    id: int
    account: str
    channel: str
    status: str
    customer_handle: str | None
    """The username on the platform; Facebook gives only the display name."""
    assignee: str | None
    opened_at: datetime | None
    first_response_at: datetime | None
    due_at: datetime | None
    answered_at: datetime | None
    """First answer after the SLA clock started (the first inbound, or the reopening one)."""
    resolved_at: datetime | None
    first_response_minutes: float | None
    """Business minutes from the first inbound message to the first answer."""
    resolution_minutes: float | None
    """Business minutes from the first inbound message to resolution."""
    personal_data: tuple[str, ...]
    """Types of personal data customers exposed in it, never the values."""

    def sla_met(self, now: datetime) -> bool | None:
        """True/False once it can be told; None without a due time or before it passes."""
        if self.due_at is None:
            return None
        if self.answered_at is not None:
            return self.answered_at <= self.due_at
        return False if now > self.due_at else None


def conversation_figures(
    session: Session, settings: Settings, period: ReportPeriod, account: str | None = None
) -> Iterator[ConversationFigures]:
    """Conversations opened in `period`, oldest first, streamed."""
    hours_by_account = _hours_by_account(settings)
    default_hours = hours_for(settings.hours)  # accounts no longer in the config
    statement = _figures_statement(period, account, session.get_bind().dialect.name)
    for (conversation_id, account_name, channel, status, assignee, opened_at, first_response_at,
         due_at, answered_at, resolved_at, handle, pii_types) in session.connection().execute(
            statement):
        hours = hours_by_account.get(account_name) or default_hours
        opened_at, first_response_at, resolved_at = (
            as_utc(opened_at), as_utc(first_response_at), as_utc(resolved_at))
        yield ConversationFigures(
            id=conversation_id,
            account=account_name,
            channel=channel,
            status=status,
            customer_handle=handle,
            assignee=assignee,
            opened_at=opened_at,
            first_response_at=first_response_at,
            due_at=as_utc(due_at),
            answered_at=as_utc(answered_at),
            resolved_at=resolved_at,
            first_response_minutes=_minutes(hours, opened_at, first_response_at),
            resolution_minutes=_minutes(hours, opened_at, resolved_at),
            personal_data=_types(pii_types),
        )


def _hours_by_account(settings: Settings) -> dict[str, BusinessHours]:
    return {account.name: hours_for(settings.hours, account) for account in settings.accounts}


def _figures_statement(  # type: ignore[no-untyped-def]
    period: ReportPeriod, account: str | None, dialect_name: str
):
    handle = (
        select(func.coalesce(HANDLE.c.username, HANDLE.c.display_name))
        .where(HANDLE.c.contact_id == CONVERSATION.c.contact_id,
               HANDLE.c.platform == ACCOUNT.c.platform)
        .limit(1)
        .scalar_subquery()
    )
    exposed = (
        select(func.aggregate_strings(MESSAGE.c.pii_types, ","))
        .where(MESSAGE.c.conversation_id == CONVERSATION.c.id, MESSAGE.c.has_pii)
        .scalar_subquery()
    )
    answered = (
        select(func.min(MESSAGE.c.created_at))
        .where(MESSAGE.c.conversation_id == CONVERSATION.c.id,
               MESSAGE.c.direction == Direction.OUTBOUND.value,
               MESSAGE.c.automated.is_(False),
               MESSAGE.c.created_at >= CONVERSATION.c.sla_started_at)
        .scalar_subquery()
    )
    def time(column: Any) -> Any:
        return stored_time(column, dialect_name)

    statement = (
        select(
            CONVERSATION.c.id, ACCOUNT.c.name.label("account"), CONVERSATION.c.channel,
            CONVERSATION.c.status, CONVERSATION.c.assignee, time(CONVERSATION.c.opened_at),
            time(CONVERSATION.c.first_response_at), time(CONVERSATION.c.first_response_due_at),
            time(answered.label("answered_at")), time(CONVERSATION.c.resolved_at),
            handle.label("handle"), exposed.label("pii_types"),
        )
        .join(ACCOUNT, ACCOUNT.c.id == CONVERSATION.c.account_id)
        .where(CONVERSATION.c.opened_at.is_not(None))
        .order_by(CONVERSATION.c.opened_at, CONVERSATION.c.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    statement = period.narrow(statement, CONVERSATION.c.opened_at, ACCOUNT.c.name, account)
    return statement


def _minutes(hours: BusinessHours, start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(hours.business_minutes(start, end), 1)


def _types(joined: str | None) -> tuple[str, ...]:
    return tuple(sorted({part for part in (joined or "").split(",") if part}))


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    value = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(value, 1)


def sla_met_percent(figures: Iterable[ConversationFigures], now: datetime) -> float | None:
    """Share of conversations whose SLA can be judged that were answered in time."""
    verdicts = [verdict for f in figures if (verdict := f.sla_met(now)) is not None]
    if not verdicts:
        return None
    return round(100 * sum(verdicts) / len(verdicts), 1)
