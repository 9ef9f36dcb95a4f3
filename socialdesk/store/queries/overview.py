"""The demo's and the CLI's summary of the store: counts and the newest conversations. No writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
)
from sqlmodel import Session, col, select

from connectors.base import Visibility
from socialdesk.store.models import Account, Contact, Conversation, Message, Status


@dataclass(frozen=True)
class ConversationRow:
    id: int
    account: str
    channel: str
    status: Status
    customer: str | None
    last_message_at: datetime | None
    preview: str
    has_pii: bool
    """Personal data in a public message of the conversation, as the queue's `PII`."""
    preview_spans: list[list[Any]] | None = None
    """The spans stored with the preview's message, to mask it with."""


def counts_by_channel_and_status(session: Session) -> dict[tuple[str, str], int]:
    rows = session.exec(
        select(Conversation.channel, Conversation.status, func.count()).group_by(
            col(Conversation.channel), col(Conversation.status)
        )
    )
    return {(channel, status): int(count) for channel, status, count in rows}


def message_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Message)).one())


def newest_conversations(session: Session, limit: int = 20) -> list[ConversationRow]:
    """Newest activity first, with the last message's text as the preview."""
    conversations = session.exec(
        select(Conversation, Account.name, Contact.display_name)
        .join(Account, col(Account.id) == Conversation.account_id)
        .join(Contact, col(Contact.id) == Conversation.contact_id, isouter=True)
        .order_by(col(Conversation.last_message_at).desc(), col(Conversation.id).desc())
        .limit(limit)
    ).all()
    return [_row(session, conversation, account, customer)
            for conversation, account, customer in conversations]


def _row(
    session: Session, conversation: Conversation, account: str, customer: str | None
) -> ConversationRow:
    last = session.exec(
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .limit(1)
    ).first()
    any_pii = session.exec(
        select(func.count())
        .select_from(Message)
        .where(Message.conversation_id == conversation.id, col(Message.has_pii),
               col(Message.visibility) == Visibility.PUBLIC.value)
    ).one()
    return ConversationRow(
        id=conversation.id or 0,
        account=account,
        channel=conversation.channel,
        status=conversation.status,
        customer=customer,
        last_message_at=conversation.last_message_at,
        preview=last.text if last else "",
        has_pii=bool(any_pii),
        preview_spans=last.pii_spans if last else None,
    )


# ---------------------------------------------------------------------------------------
# The TUI's read side. Functions take the engine, so the screens import no SQL library.
# The queue is paged by keyset on (sort column, id): never OFFSET, never the whole table.
