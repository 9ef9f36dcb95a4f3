"""Per-conversation figures every report shares: first response and resolution in business
time, and whether the first answer came within the SLA."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, false, func, literal, select
from sqlmodel import Session

from connectors.base import Direction
from socialdesk.config import Settings
from socialdesk.reports.csvout import ReportPeriod, as_utc, csv_flag, csv_time, stored_time
from socialdesk.service.hours import BusinessHours, hours_for
from socialdesk.store.tables import ACCOUNT, CONVERSATION, HANDLE, MESSAGE

STREAM_BATCH = 1000
UNKNOWN_AUTHOR = "(unknown author)"
"""A customer the platform withheld (Graph leaves out who wrote a comment), named as the
desk names them."""


def customer_name(username: Any, display_name: Any) -> Any:
    """The customer as every report names them: the username, else the display name
    (Facebook gives names only), else `UNKNOWN_AUTHOR`; never an empty cell."""
    return func.coalesce(username, display_name, literal(UNKNOWN_AUTHOR))


@dataclass(slots=True)
class ConversationFigures:
    id: int
    account: str
    channel: str
    status: str
    customer_handle: str | None
    """The username on the platform; Facebook gives only the display name (`customer_name`)."""
    assignee: str | None
    opened_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_minutes: float | None
    """Business minutes from the first inbound message to the first answer."""
    resolution_minutes: float | None
    """Business minutes from the first inbound message to resolution."""
    personal_data: tuple[str, ...]
    """Types of personal data customers exposed in it, never the values."""
    sla_met: bool | None
    """Answered by the due time; None without a due time, or while it has not passed."""


_VERDICTS = {"true": True, "false": False}


def conversation_figures(
    session: Session, settings: Settings, period: ReportPeriod, now: datetime,
    account: str | None = None,
) -> Iterator[ConversationFigures]:
    """Conversations opened in `period`, oldest first, streamed."""
    for hours, (conversation_id, account_name, channel, status, assignee, opened_at,
                first_response_at, resolved_at, handle, pii_types, sla_met,
                *_cells) in _figure_rows(session, settings, period, now, account):
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
            resolved_at=resolved_at,
            first_response_minutes=_minutes(hours, opened_at, first_response_at),
            resolution_minutes=_minutes(hours, opened_at, resolved_at),
            personal_data=_types(pii_types),
            sla_met=_VERDICTS.get(sla_met),
        )


def conversation_cells(
    session: Session, settings: Settings, period: ReportPeriod, now: datetime,
    account: str | None = None,
) -> Iterator[tuple[object, ...]]:
    """The `conversations` report's rows (CONVERSATIONS_COLUMNS), ready for CSV: times and
    the SLA verdict as the database wrote them, minutes in business time. No
    `ConversationFigures` in between: building one per row was a fifth of the time."""
    for hours, (conversation_id, account_name, channel, status, assignee, opened_at,
                first_response_at, resolved_at, handle, pii_types, sla_met, opened_cell,
                first_response_cell, due_cell, resolved_cell, redirected) in _figure_rows(
            session, settings, period, now, account):
        opened_at = as_utc(opened_at)
        yield (
            conversation_id, channel, account_name, handle, status, opened_cell,
            first_response_cell, _minutes(hours, opened_at, as_utc(first_response_at)),
            due_cell, sla_met, resolved_cell, _minutes(hours, opened_at, as_utc(resolved_at)),
            assignee, " ".join(_types(pii_types)), redirected,
        )


def _figure_rows(
    session: Session, settings: Settings, period: ReportPeriod, now: datetime,
    account: str | None,
) -> Iterator[tuple[BusinessHours, Any]]:
    """Each conversation's row with the business hours of its account."""
    hours_by_account = _hours_by_account(settings)
    default_hours = hours_for(settings.hours)  # accounts no longer in the config
    statement = _figures_statement(period, account, session.get_bind().dialect.name, now)
    for row in session.connection().execute(statement):
        yield hours_by_account.get(row[1]) or default_hours, row


def _hours_by_account(settings: Settings) -> dict[str, BusinessHours]:
    return {account.name: hours_for(settings.hours, account) for account in settings.accounts}


def _figures_statement(  # type: ignore[no-untyped-def]
    period: ReportPeriod, account: str | None, dialect_name: str, now: datetime
):
    handle = func.coalesce(  # no handle at all: a customer the platform withheld
        select(customer_name(HANDLE.c.username, HANDLE.c.display_name))
        .where(HANDLE.c.contact_id == CONVERSATION.c.contact_id,
               HANDLE.c.platform == ACCOUNT.c.platform)
        .limit(1)
        .scalar_subquery(),
        literal(UNKNOWN_AUTHOR),
    )
    exposed = (
        select(func.aggregate_strings(MESSAGE.c.pii_types, ","))
        .where(MESSAGE.c.conversation_id == CONVERSATION.c.id, MESSAGE.c.has_pii)
        .scalar_subquery()
    )
    due_at = CONVERSATION.c.first_response_due_at

    def time(column: Any) -> Any:
        return stored_time(column, dialect_name)

    def cell(column: Any) -> Any:
        return csv_time(column, dialect_name)

    statement = (
        select(
            CONVERSATION.c.id, ACCOUNT.c.name.label("account"), CONVERSATION.c.channel,
            CONVERSATION.c.status, CONVERSATION.c.assignee, time(CONVERSATION.c.opened_at),
            time(CONVERSATION.c.first_response_at), time(CONVERSATION.c.resolved_at),
            handle.label("handle"), exposed.label("pii_types"),
            _sla_verdict(due_at, now).label("sla_met"), cell(CONVERSATION.c.opened_at),
            cell(CONVERSATION.c.first_response_at), cell(due_at),
            cell(CONVERSATION.c.resolved_at),
            csv_flag(CONVERSATION.c.redirected_at.is_not(None)).label("redirected"),
        )
        .join(ACCOUNT, ACCOUNT.c.id == CONVERSATION.c.account_id)
        .where(CONVERSATION.c.opened_at.is_not(None))
        .order_by(CONVERSATION.c.opened_at, CONVERSATION.c.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    statement = period.narrow(statement, CONVERSATION.c.opened_at, ACCOUNT.c.name, account)
    return statement


def _sla_verdict(due_at: Any, now: datetime) -> Any:
    """`true` when the first answer after the SLA clock started (the first inbound, or the
    reopening one) came by the due time, `false` when it came later or the due time has
    passed unanswered, NULL without a due time or before it passes. As text for the CSV.
    Computed by the database, where times compare without being parsed."""
    answered_at = (
        select(func.min(MESSAGE.c.created_at))
        .where(MESSAGE.c.conversation_id == CONVERSATION.c.id,
               MESSAGE.c.direction == Direction.OUTBOUND.value,
               MESSAGE.c.automated.is_(False),
               MESSAGE.c.created_at >= CONVERSATION.c.sla_started_at)
        .scalar_subquery()
    )
    met = func.coalesce(answered_at <= due_at, case((due_at < now, false())))
    return case({True: "true", False: "false"}, value=met)


def _minutes(hours: BusinessHours, start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(hours.business_minutes(start, end), 1)


def _types(joined: str | None) -> tuple[str, ...]:
    if not joined:
        return ()
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


def sla_met_percent(figures: Iterable[ConversationFigures]) -> float | None:
    """Share of conversations whose SLA can be judged that were answered in time."""
    verdicts = [f.sla_met for f in figures if f.sla_met is not None]
    if not verdicts:
        return None
    return round(100 * sum(verdicts) / len(verdicts), 1)
