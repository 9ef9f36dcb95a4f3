"""A conversation's state folded with new messages: timestamps, status, reopening.

Pure (no SQL): `socialdesk.store.threads` folds a page's messages into the conversations
they join, `socialdesk.store.opened_conversations` into those the page opens, before they
are inserted (PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from connectors.base import Direction, InboundItem
from socialdesk.store.models import Status

DueClock = Callable[[int, datetime | None, datetime | None, datetime | None],
                    tuple[datetime, datetime] | None]
"""A conversation's first-response clock as a page leaves it: given its id, `opened_at`,
stored `sla_started_at` and the time of the inbound message that reopened it (if one did),
the new `(sla_started_at, first_response_due_at)`, or None to leave both. Business hours
are the service layer's (`socialdesk.service.sla.DueClock`); the store only asks."""

TIMESTAMPS = ("opened_at", "first_response_at", "last_inbound_at", "last_outbound_at",
              "last_message_at")
TIMES = ("resolved_at", *TIMESTAMPS, "sla_started_at")


class NewMessage(NamedTuple):
    """A message a page really added, or is about to add (`id` 0) when a conversation is
    folded before its insert (a tuple: a page makes hundreds)."""

    id: int
    conversation_id: int
    direction: Direction
    created_at: datetime
    automated: bool

    @property
    def is_answer(self) -> bool:
        return self.direction is Direction.OUTBOUND and not self.automated


def opened_state(conversation_id: int, opener: InboundItem) -> dict[str, Any]:
    """A conversation's state as a page opens it, before its messages: a thread our own
    echo started is not new work."""
    status = Status.NEW if opener.direction is Direction.INBOUND else Status.RESOLVED
    return {"id": conversation_id, "status": status.value, **dict.fromkeys(TIMES)}


def reopened_at(current: dict[str, Any], values: dict[str, Any],
                 messages: list[NewMessage]) -> datetime | None:
    """The time of the inbound message that reopened a resolved conversation, if one did."""
    if current["status"] == Status.RESOLVED != values["status"]:
        return min(m.created_at for m in messages if m.direction is Direction.INBOUND)
    return None


def folded(
    current: dict[str, Any], new: list[NewMessage], now: datetime
) -> tuple[dict[str, Any], bool]:
    """The conversation's new values, and whether its timestamps are exact without SQL.

    A new inbound message reopens a resolved conversation; an answer seen on the platform
    (our echo after the first inbound) moves a new one to open. One pass over the page's
    messages: this runs for every conversation of every page.
    """
    first_in = last_in = first_answer = last_answer = None
    last = current["last_message_at"]
    for message in new:
        at = message.created_at
        if message.direction is Direction.INBOUND:
            first_in = at if first_in is None or at < first_in else first_in
            last_in = at if last_in is None or at > last_in else last_in
        elif not message.automated:
            first_answer = at if first_answer is None or at < first_answer else first_answer
            last_answer = at if last_answer is None or at > last_answer else last_answer
        last = at if last is None or at > last else last
    opened = _earliest(current["opened_at"], first_in)
    exact = opened == current["opened_at"] or current["last_outbound_at"] is None
    first_response = current["first_response_at"]
    if opened is not None and last_answer is not None and last_answer >= opened:
        earliest_answer = min(m.created_at for m in new if m.is_answer and m.created_at >= opened)
        first_response = _earliest(first_response, earliest_answer)
    status, resolved_at = current["status"], current["resolved_at"]
    if first_in is not None and status == Status.RESOLVED:
        status, resolved_at = Status.OPEN, None
    elif status == Status.NEW and first_response is not None:
        status = Status.OPEN
    values = {
        "conversation_id": current["id"],
        "opened_at": opened,
        "first_response_at": first_response,
        "last_inbound_at": _latest(current["last_inbound_at"], last_in),
        "last_outbound_at": _latest(current["last_outbound_at"], last_answer),
        "last_message_at": last,
        "status": status,
        "resolved_at": resolved_at,
        "updated_at": now,
    }
    return values, exact


def _earliest(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or (second is not None and second < first):
        return second
    return first


def _latest(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or (second is not None and second > first):
        return second
    return first


