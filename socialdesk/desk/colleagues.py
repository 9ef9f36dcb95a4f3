"""Who else is on a conversation, and what they sent while you were writing.

The desk asks before an answer would cross a colleague's: when someone is typing in the
conversation or has taken it (`store.team`), and when an answer went out there after the
composer opened. Both are read here, so the desk (which writes no SQL) only asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import Session, col, select

from connectors.base import ActionKind, Direction
from socialdesk.store.models import Message, OutboxAction, OutboxState
from socialdesk.store.team import holder, present

if TYPE_CHECKING:
    from sqlalchemy import Engine

ANSWER_KINDS = (ActionKind.REPLY, ActionKind.DIRECT_MESSAGE, ActionKind.PRIVATE_REPLY)
"""The outbox kinds that carry an answer's text (hides carry none)."""

NOT_GOING = (OutboxState.FAILED,)
"""An answer in one of these states will not reach the customer: nothing to warn about."""


@dataclass(frozen=True)
class Colleague:
    """Another desk on the conversation: typing an answer in it, holding it (take next),
    or only reading it."""

    initials: str
    typing: bool = False
    holds: bool = False

    @property
    def answering(self) -> bool:
        """Whether answering now would cross theirs: they type in it or took it."""
        return self.typing or self.holds


@dataclass(frozen=True)
class AnswerMark:
    """The newest message and outbox row of a conversation when a composer opened: what
    came after them was sent while the operator was writing."""

    message_id: int
    outbox_id: int


@dataclass(frozen=True)
class ColleagueAnswer:
    """An answer that reached the conversation after the mark, as the operator reads it."""

    by: str
    text: str
    at: datetime
    state: str


def colleagues_on(engine: Engine, conversation_id: int, desk_id: str) -> list[Colleague]:
    """The other live desks on `conversation_id`: who types, who holds it, who reads it;
    the ones answering first. This desk (`desk_id`) is never among them."""
    held_by = holder(engine, conversation_id)
    by_initials: dict[str, Colleague] = {}
    for desk in present(engine):
        if desk.desk_id == desk_id or desk.conversation_id != conversation_id:
            continue
        known = by_initials.get(desk.initials, Colleague(desk.initials))
        by_initials[desk.initials] = Colleague(desk.initials, known.typing or desk.typing,
                                               known.holds)
    if held_by is not None and held_by.desk_id != desk_id:
        known = by_initials.get(held_by.initials, Colleague(held_by.initials))
        by_initials[held_by.initials] = Colleague(held_by.initials, known.typing, holds=True)
    return sorted(by_initials.values(), key=lambda c: (not c.answering, c.initials))


def answer_mark(engine: Engine, conversation_id: int) -> AnswerMark:
    """Where the conversation's messages and the outbox stand now. The outbox's newest row
    overall, read off its primary key: `answers_since` only compares ids with it."""
    with Session(engine) as session:
        message = session.exec(select(func.max(Message.id))
                               .where(Message.conversation_id == conversation_id)).one()
        outbox = session.exec(select(func.max(OutboxAction.id))).one()
    return AnswerMark(message or 0, outbox or 0)


def answers_since(engine: Engine, conversation_id: int, mark: AnswerMark,
                  operator: str) -> list[ColleagueAnswer]:
    """The answers someone else queued in the conversation after `mark`, and the account's
    messages that arrived there after it (a colleague's answer already sent, or one sent
    from the platform's own app), oldest first. `operator`'s own answers are left out: a
    retry of theirs is no colleague's. Reads only rows newer than the mark."""
    with Session(engine) as session:
        queued = session.exec(
            select(OutboxAction).where(
                col(OutboxAction.id) > mark.outbox_id,
                OutboxAction.conversation_id == conversation_id,
                col(OutboxAction.kind).in_(ANSWER_KINDS),
                col(OutboxAction.state).not_in(NOT_GOING),
            ).order_by(col(OutboxAction.id))
        ).all()
        arrived = session.exec(
            select(Message).where(
                Message.conversation_id == conversation_id,
                col(Message.id) > mark.message_id,
                Message.direction == Direction.OUTBOUND.value,
            ).order_by(col(Message.id))
        ).all()
        answers = [ColleagueAnswer(row.requested_by, row.text or "", row.created_at, row.state)
                   for row in queued if row.requested_by != operator]
        listed = {row.id for row in queued}
        for message in arrived:
            sent_by = _sent_by(session, message)
            if sent_by is not None and (sent_by.id in listed or sent_by.requested_by == operator):
                continue
            by = sent_by.requested_by if sent_by is not None else (
                message.author_handle or message.author_name or "the account")
            answers.append(ColleagueAnswer(by, message.text, message.created_at, "sent"))
    return sorted(answers, key=lambda answer: answer.at)


def _sent_by(session: Session, message: Message) -> OutboxAction | None:
    """The outbox row a sent message came from (`outbound_item` records its id), if any."""
    action_id = (message.raw or {}).get("outbox_action_id")
    return session.get(OutboxAction, action_id) if isinstance(action_id, int) else None
