"""One conversation's thread, with each message's moderation state. No writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from connectors.base import ActionKind, Direction
from socialdesk.store.models import (
    Account,
    Contact,
    Conversation,
    Message,
    OutboxAction,
    OutboxState,
    Status,
)


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    direction: Direction
    visibility: str
    channel: str
    author_handle: str | None
    author_name: str | None
    text: str
    created_at: datetime
    has_pii: bool
    pii_types: str | None
    moderation: Moderation | None = None
    """The newest hide/unhide asked for this message, with its outbox state."""
    pii_spans: list[list[Any]] | None = None
    """`[start, end, type]` found at ingest: the thread masks with them."""


@dataclass(frozen=True)
class Moderation:
    """Whether an operator asked to hide (or unhide) a message, and how far that got."""

    kind: ActionKind
    """`hide` or `unhide`."""
    state: OutboxState

    @property
    def hidden(self) -> bool:
        """Hidden on the platform, or on its way there (the next press unhides)."""
        return self.kind == ActionKind.HIDE and self.state != OutboxState.FAILED


@dataclass(frozen=True)
class ConversationView:
    id: int
    account: str
    platform: str
    channel: str
    visibility: str
    status: Status
    assignee: str | None
    contact_id: int | None
    customer: str | None
    opened_at: datetime | None
    last_inbound_at: datetime | None
    messages: list[ThreadMessage]
    first_response_due_at: datetime | None = None
    sla_started_at: datetime | None = None
    last_outbound_at: datetime | None = None


def conversation_view(engine: Engine, conversation_id: int) -> ConversationView | None:
    """One conversation with its whole thread, oldest first."""
    with Session(engine) as session:
        found = session.exec(
            select(Conversation, Account, Contact)
            .join(Account, col(Account.id) == Conversation.account_id)
            .join(Contact, col(Contact.id) == Conversation.contact_id, isouter=True)
            .where(Conversation.id == conversation_id)
        ).first()
        if found is None:
            return None
        conversation, account, contact = found
        messages = session.exec(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(col(Message.created_at), col(Message.id))
        ).all()
        moderation = _moderation(session, conversation_id)
    return ConversationView(
        id=conversation_id, account=account.name, platform=account.platform,
        channel=conversation.channel, visibility=conversation.visibility,
        status=conversation.status, assignee=conversation.assignee,
        contact_id=conversation.contact_id, customer=contact.display_name if contact else None,
        opened_at=conversation.opened_at, last_inbound_at=conversation.last_inbound_at,
        messages=[_thread_message(message, moderation.get(message.id or 0))
                  for message in messages],
        first_response_due_at=conversation.first_response_due_at,
        sla_started_at=conversation.sla_started_at,
        last_outbound_at=conversation.last_outbound_at,
    )


def _moderation(session: Session, conversation_id: int) -> dict[int, Moderation]:
    """The newest hide/unhide outbox row of each message of the conversation."""
    rows = session.exec(
        select(OutboxAction.target_message_id, OutboxAction.kind, OutboxAction.state)
        .where(OutboxAction.conversation_id == conversation_id,
               col(OutboxAction.kind).in_((ActionKind.HIDE, ActionKind.UNHIDE)),
               col(OutboxAction.target_message_id).is_not(None))
        .order_by(col(OutboxAction.id))
    ).all()
    return {message_id: Moderation(ActionKind(kind), OutboxState(state))
            for message_id, kind, state in rows
            if message_id is not None}


def _thread_message(message: Message, moderation: Moderation | None = None) -> ThreadMessage:
    return ThreadMessage(
        id=message.id or 0, direction=message.direction, visibility=message.visibility,
        channel=message.channel, author_handle=message.author_handle,
        author_name=message.author_name, text=message.text, created_at=message.created_at,
        has_pii=message.has_pii, pii_types=message.pii_types, moderation=moderation,
        pii_spans=message.pii_spans,
    )
