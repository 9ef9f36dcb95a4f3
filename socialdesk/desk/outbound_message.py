"""A sent action as the store keeps it: the outbound message ingest records, and the
customer's card the conversation it opened belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from connectors.base import ActionKind, Direction, InboundItem, SendReceipt
from socialdesk.config import Settings
from socialdesk.platforms.registry import platform_named
from socialdesk.store.models import Account, Conversation, Handle, Message, OutboxAction


def link_customer(session: Session, account: Account, row: OutboxAction, thread: str) -> None:
    """A private conversation our own message opened belongs on the card of the customer
    it was sent to: ingest cannot tell, since the only author it sees is us."""
    contact_id = _recipient_contact(session, row)
    if contact_id is None:
        return
    session.exec(
        update(Conversation)
        .where(col(Conversation.account_id) == account.id,
               col(Conversation.thread_key) == thread,
               col(Conversation.contact_id).is_(None))
        .values(contact_id=contact_id)
    )
    session.commit()


def _recipient_contact(session: Session, row: OutboxAction) -> int | None:
    """The contact behind the recipient: their handle, else the author of the message
    answered (a Facebook private reply names a comment, not a person)."""
    candidates = [row.recipient_id]
    if row.target_message_id is not None:
        target = session.get(Message, row.target_message_id)
        if target is not None:
            candidates.append(target.author_external_id)
    for user_id in candidates:
        contact = _handle(session, row.platform, user_id) if user_id else None
        if contact is not None:
            return contact
    return None


def _handle(session: Session, platform: str, user_id: str) -> int | None:
    return session.exec(
        select(Handle.contact_id).where(Handle.platform == platform,
                                        Handle.external_user_id == user_id)
    ).first()


def outbound_item(
    settings: Settings, account: Account, row: OutboxAction, receipt: SendReceipt, now: datetime
) -> InboundItem:
    """The sent message as ingest stores it: the account's own, on the channel the receipt
    names (else the platform's default for the kind), threaded where it answered."""
    own_id = settings.account(account.name).own_id()
    kind = ActionKind(row.kind)
    parent = row.target_external_id if kind is ActionKind.REPLY else None
    thread = receipt.thread_key or row.thread_key or row.target_external_id or receipt.external_id
    return InboundItem(
        platform=row.platform,
        external_id=str(receipt.external_id),
        channel=receipt.channel or platform_named(row.platform).default_channel(kind),
        direction=Direction.OUTBOUND,
        thread_key=str(thread),
        text=row.text or "",
        created_at=receipt.created_at or now,
        author_id=own_id or None,
        parent_external_id=parent,
        raw={"outbox_action_id": row.id, **dict(receipt.raw)},
    )
