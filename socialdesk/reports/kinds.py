"""The report kinds other than `messages`: per conversation, per operator, per day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from sqlalchemy import select
from sqlmodel import Session

from connectors.base import ActionKind, Direction
from socialdesk.config import Settings
from socialdesk.privacy.plan_steps import PlanStep, read_plan
from socialdesk.reports.csvout import ReportPeriod, csv_time
from socialdesk.reports.figures import (
    STREAM_BATCH,
    ConversationFigures,
    conversation_figures,
    percentile,
    sla_met_percent,
)
from socialdesk.store.models import OutboxState
from socialdesk.store.tables import ACCOUNT, CONVERSATION, EXPOSURE, MESSAGE, OUTBOX

ANSWER_KINDS = tuple(kind.value for kind in ActionKind if kind.visibility is not None)
"""Outbox actions that are answers to a customer (hiding is not)."""

CONVERSATIONS_COLUMNS = (
    "conversation_id", "channel", "account", "customer_handle", "status", "opened_at",
    "first_response_at", "first_response_minutes", "sla_due_at", "sla_met", "resolved_at",
    "resolution_minutes", "assignee", "personal_data", "redirected",
)
CONVERSATIONS_TEXT_COLUMNS = tuple(
    CONVERSATIONS_COLUMNS.index(name) for name in ("account", "customer_handle", "assignee")
)
"""Cells from outside (config, platform, operators); see `write_csv`."""
AGENTS_COLUMNS = (
    "operator", "conversations", "replies", "first_response_median_minutes",
    "first_response_p90_minutes", "resolution_median_minutes", "sla_met_percent",
)
REDIRECTS_COLUMNS = (
    "detected_at", "account", "channel", "conversation_id", "private_conversation_id",
    "data_types", "mode", "outcome", "actions", "decided_by",
)
DAILY_COLUMNS = (
    "day", "channel", "inbound", "conversations", "answered", "first_response_median_minutes",
    "sla_breaches",
)


@dataclass
class _Group:
    figures: list[ConversationFigures] = field(default_factory=list)
    replies: int = 0
    inbound: int = 0


def agent_rows(
    session: Session, settings: Settings, period: ReportPeriod, now: datetime,
    account: str | None = None,
) -> Iterator[tuple[object, ...]]:
    """Per operator: the conversations assigned to them and the answers they sent."""
    groups: dict[str, _Group] = defaultdict(_Group)
    for figures in conversation_figures(session, settings, period, now, account):
        if figures.assignee:
            groups[figures.assignee].figures.append(figures)
    for operator, replies in _replies_by_operator(session, period, account):
        groups[operator].replies += replies
    for operator in sorted(groups):
        group = groups[operator]
        yield (
            operator, len(group.figures), group.replies,
            *_first_response_quantiles(group.figures),
            percentile(_present(f.resolution_minutes for f in group.figures), 0.5),
            sla_met_percent(group.figures),
        )


def _replies_by_operator(
    session: Session, period: ReportPeriod, account: str | None
) -> Iterator[tuple[str, int]]:
    statement = select(OUTBOX.c.requested_by, OUTBOX.c.sent_at).where(
        OUTBOX.c.state == OutboxState.SENT, OUTBOX.c.kind.in_(ANSWER_KINDS)
    )
    if account:
        statement = statement.where(OUTBOX.c.account_id.in_(_account_ids(session, account)))
    counts: dict[str, int] = defaultdict(int)
    for operator, sent_at in session.connection().execute(statement):
        if period.contains(sent_at):
            counts[operator] += 1
    yield from counts.items()


def _account_ids(session: Session, name: str) -> list[int]:
    return list(session.connection().execute(
        select(ACCOUNT.c.id).where(ACCOUNT.c.name == name)).scalars())


def daily_rows(
    session: Session, settings: Settings, period: ReportPeriod, now: datetime,
    account: str | None = None,
) -> Iterator[tuple[object, ...]]:
    """Per local day and channel: messages in, conversations opened, answered, breaches."""
    groups: dict[tuple[date, str], _Group] = defaultdict(_Group)
    zone = settings.desk_zone
    for figures in conversation_figures(session, settings, period, now, account):
        assert figures.opened_at is not None
        groups[(figures.opened_at.astimezone(zone).date(), figures.channel)].figures.append(
            figures)
    for day, channel in inbound_days(session, period, account, zone):
        groups[(day, channel)].inbound += 1
    for (day, channel) in sorted(groups):
        group = groups[(day, channel)]
        answered = [f for f in group.figures if f.first_response_at is not None]
        yield (
            day.isoformat(), channel, group.inbound, len(group.figures), len(answered),
            percentile(_present(f.first_response_minutes for f in answered), 0.5),
            sum(1 for f in group.figures if f.sla_met is False),
        )


def inbound_days(
    session: Session, period: ReportPeriod, account: str | None, zone: tzinfo
) -> Iterator[tuple[date, str]]:
    """Each inbound message's day in `zone` and its channel."""
    statement = (
        select(MESSAGE.c.created_at, MESSAGE.c.channel)
        .join(ACCOUNT, ACCOUNT.c.id == MESSAGE.c.account_id)
        .where(MESSAGE.c.direction == Direction.INBOUND.value)
        .execution_options(yield_per=STREAM_BATCH)
    )
    statement = period.narrow(statement, MESSAGE.c.created_at, ACCOUNT.c.name, account)
    for created_at, channel in session.connection().execute(statement):
        yield created_at.astimezone(zone).date(), channel


def _first_response_quantiles(figures: list[ConversationFigures]) -> tuple[object, object]:
    minutes = _present(f.first_response_minutes for f in figures)
    return percentile(minutes, 0.5), percentile(minutes, 0.9)


def _present(values: Iterable[float | None]) -> list[float]:
    return [value for value in values if value is not None]


def redirect_rows(
    session: Session, period: ReportPeriod, account: str | None = None
) -> Iterator[tuple[object, ...]]:
    """Every privacy redirect: when, where, which data types and what each action did.
    Never the values, and never the texts sent. The time is written by `csv_time`, as in
    every kind, so a time reads the same in each report."""
    detected_at = csv_time(EXPOSURE.c.detected_at, session.get_bind().dialect.name)
    statement = (
        select(detected_at, ACCOUNT.c.name, CONVERSATION.c.channel,
               EXPOSURE.c.conversation_id, CONVERSATION.c.redirected_to_id, EXPOSURE.c.types,
               EXPOSURE.c.mode, EXPOSURE.c.outcome, EXPOSURE.c.plan, EXPOSURE.c.resolved_by)
        .join(CONVERSATION, CONVERSATION.c.id == EXPOSURE.c.conversation_id)
        .join(ACCOUNT, ACCOUNT.c.id == CONVERSATION.c.account_id)
        .order_by(EXPOSURE.c.detected_at, EXPOSURE.c.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    statement = period.narrow(statement, EXPOSURE.c.detected_at, ACCOUNT.c.name, account)
    rows = list(session.connection().execute(statement))
    states = _outbox_states(session, [step.outbox_action_id for row in rows
                                      for step in read_plan(row.plan)])
    for row in rows:
        yield (row.detected_at, row.name, row.channel, row.conversation_id,
               row.redirected_to_id, row.types.replace(",", " "), row.mode, row.outcome,
               _actions(read_plan(row.plan), states), row.resolved_by)


def _outbox_states(session: Session, ids: list[object]) -> dict[int, str]:
    wanted = sorted({int(i) for i in ids if isinstance(i, int)})
    states: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        states.update(session.connection().execute(
            select(OUTBOX.c.id, OUTBOX.c.state).where(OUTBOX.c.id.in_(chunk))).all())
    return states


def _actions(plan: list[PlanStep], states: dict[int, str]) -> str:
    """`purpose kind: state` per planned action, the outbox's current state when it was
    queued."""
    described = []
    for step in _each_action_once(plan):
        outbox_id = step.outbox_action_id
        state = states.get(outbox_id) if outbox_id is not None else None
        described.append(f"{step.action.purpose.value} {step.action.kind.value}: "
                         f"{state or (step.state and step.state.value) or 'not run'}")
    return "; ".join(described)


def _each_action_once(plan: list[PlanStep]) -> list[PlanStep]:
    """The plan's actions in order, each once. A step held in reserve (the public pointer
    with the DM link) is no action of its own: when it ran it stands in for the planned
    step of the same purpose, which then did not run; when it did not, it is left out.
    Listing both read `public_pointer reply: not run; public_pointer reply: not run`."""
    used = {step.action.purpose: step for step in plan
            if step.conditional and (step.ran or step.outbox_action_id is not None)}
    return [used.get(step.action.purpose, step) for step in plan if not step.conditional]
