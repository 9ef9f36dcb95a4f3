"""Due times of first responses in the store: set at ingest, checked by `socialdesk run`.

Ingest knows which conversations a page opened or reopened and nothing of hours; it asks
a `DueClock` from here for each one and writes the answer in the same UPDATE as the
conversation's totals, so a page is never stored without its due times. The business-time
rules stay in `socialdesk.service.hours` and ingest stays a write path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, bindparam, or_, select, update
from sqlmodel import Session

from socialdesk.service.hours import BusinessHours
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


class DueClock:
    """First-response due times for one walk of one account (`ingest_page(due_clock=...)`).

    A walk brings the newest page first, so a later page of the same walk may move a
    conversation's first inbound earlier: `counted_from_opening` holds the conversations
    whose clock this walk started from `opened_at`, which may move with it. A reopened
    conversation counts from the message that reopened it.
    """

    def __init__(self, hours: BusinessHours, minutes: int) -> None:
        self.hours = hours
        self.minutes = minutes
        self.counted_from_opening: set[int] = set()

    def __call__(
        self,
        conversation_id: int,
        opened_at: datetime | None,
        started: datetime | None,
        reopened_at: datetime | None,
    ) -> tuple[datetime, datetime] | None:
        """The conversation's new `(sla_started_at, first_response_due_at)`, or None."""
        start = self._clock_start(conversation_id, opened_at, started, reopened_at)
        return None if start == started else self._due(start)

    def opening(
        self, opened_at: datetime | None, reopened_at: datetime | None
    ) -> tuple[datetime, datetime] | None:
        """The clock of a conversation a page opens, as `__call__` gives one with no clock
        yet: ingest writes it in the conversation's INSERT, before the row has an id (an
        UPDATE after it rewrote a dozen index entries per conversation). `opened` follows
        with the id."""
        return self._due(reopened_at if reopened_at is not None else opened_at)

    def _due(self, start: datetime | None) -> tuple[datetime, datetime] | None:
        """`(sla_started_at, first_response_due_at)` of a clock started at `start`."""
        if start is None:
            return None
        return start, self.hours.add_business_minutes(start, self.minutes)

    def opened(
        self, conversation_id: int, opened_at: datetime | None, reopened_at: datetime | None
    ) -> None:
        """Note the id of a conversation `opening` timed, as `__call__` notes it."""
        self._clock_start(conversation_id, opened_at, None, reopened_at)

    def _clock_start(
        self,
        conversation_id: int,
        opened_at: datetime | None,
        started: datetime | None,
        reopened_at: datetime | None,
    ) -> datetime | None:
        if reopened_at is not None:
            self.counted_from_opening.discard(conversation_id)
            return reopened_at
        if opened_at is None:
            return None
        if started is None or (conversation_id in self.counted_from_opening
                               and opened_at < started):
            self.counted_from_opening.add(conversation_id)
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
