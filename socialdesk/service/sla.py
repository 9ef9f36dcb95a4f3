"""Due times of first responses in the store: set after ingest, checked by `socialdesk run`.

Ingest reports which conversations it opened or reopened and knows nothing of hours;
this module turns those facts into `first_response_due_at` with `socialdesk.service.hours`, so
the business-time rules stay in one pure module and ingest stays a write path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, bindparam, or_, select, update
from sqlmodel import Session

from socialdesk.service.hours import BusinessHours
from socialdesk.store.ingest import IngestReport
from socialdesk.store.models import Status
from socialdesk.store.tables import ACCOUNT, CONVERSATION

BACKFILL_BATCH = 500

_SET_DUE = (
    update(CONVERSATION)
    .where(CONVERSATION.c.id == bindparam("conversation_id"))
    .values(sla_started_at=bindparam("started"), first_response_due_at=bindparam("due"))
)


@dataclass(frozen=True)
class OverdueConversation:
    id: int
    account: str
    channel: str
    due_at: datetime


def set_due_times(
    session: Session,
    hours: BusinessHours,
    minutes: int,
    report: IngestReport,
    counted_from_opening: set[int],
) -> int:
    """Give each conversation the page opened or reopened its due time; return how many.

    A walk brings the newest page first, so a later page of the same walk may move a
    conversation's first inbound earlier: `counted_from_opening` holds the conversations
    whose clock this walk started from `opened_at`, which may move with it. A reopened
    conversation counts from the message that reopened it.
    """
    if not report.touched_conversation_ids:
        return 0
    rows = session.connection().execute(
        select(CONVERSATION.c.id, CONVERSATION.c.opened_at, CONVERSATION.c.sla_started_at)
        .where(CONVERSATION.c.id.in_(sorted(report.touched_conversation_ids)))
    )
    changes = []
    for conversation_id, opened_at, started in rows:
        start = _clock_start(conversation_id, opened_at, started, report, counted_from_opening)
        if start is not None and start != started:
            changes.append({"conversation_id": conversation_id, "started": start,
                            "due": hours.add_business_minutes(start, minutes)})
    if changes:
        session.connection().execute(_SET_DUE, changes)
    session.commit()
    return len(changes)


def _clock_start(
    conversation_id: int,
    opened_at: datetime | None,
    started: datetime | None,
    report: IngestReport,
    counted_from_opening: set[int],
) -> datetime | None:
    if conversation_id in report.reopened_at:
        counted_from_opening.discard(conversation_id)
        return report.reopened_at[conversation_id]
    if opened_at is None:
        return None
    if started is None or (conversation_id in counted_from_opening and opened_at < started):
        counted_from_opening.add(conversation_id)
        return opened_at
    return None


def fill_missing_due_times(
    engine: Engine, hours_by_account: Mapping[str, BusinessHours], minutes: int
) -> int:
    """Due times for conversations opened without one (a sync killed between two commits)."""
    filled = 0
    with Session(engine) as session:
        while True:
            rows = session.connection().execute(
                select(CONVERSATION.c.id, CONVERSATION.c.opened_at, ACCOUNT.c.name)
                .join(ACCOUNT, ACCOUNT.c.id == CONVERSATION.c.account_id)
                .where(CONVERSATION.c.sla_started_at.is_(None),
                       CONVERSATION.c.opened_at.is_not(None),
                       ACCOUNT.c.name.in_(list(hours_by_account)))
                .limit(BACKFILL_BATCH)
            ).all()
            if not rows:
                return filled
            changes: list[dict[str, Any]] = [
                {"conversation_id": conversation_id, "started": opened_at,
                 "due": hours_by_account[name].add_business_minutes(opened_at, minutes)}
                for conversation_id, opened_at, name in rows
            ]
            session.connection().execute(_SET_DUE, changes)
            session.commit()
            filled += len(changes)


def overdue_conversations(engine: Engine, now: datetime) -> list[OverdueConversation]:
    """Open conversations past their due time with no answer since their clock started.

    Unanswered means no first response (an automatic acknowledgement does not count, see
    `socialdesk.service.acknowledgement`), or, for a reopened one, nothing of ours since it
    reopened.
    """
    statement = (
        select(CONVERSATION.c.id, ACCOUNT.c.name, CONVERSATION.c.channel,
               CONVERSATION.c.first_response_due_at)
        .join(ACCOUNT, ACCOUNT.c.id == CONVERSATION.c.account_id)
        .where(
            CONVERSATION.c.status != Status.RESOLVED,
            CONVERSATION.c.first_response_due_at < now,
            or_(CONVERSATION.c.first_response_at.is_(None),
                and_(CONVERSATION.c.sla_started_at > CONVERSATION.c.opened_at,
                     CONVERSATION.c.last_outbound_at < CONVERSATION.c.sla_started_at)),
        )
        .order_by(CONVERSATION.c.first_response_due_at)
    )
    with engine.connect() as connection:
        return [OverdueConversation(*row) for row in connection.execute(statement)]
