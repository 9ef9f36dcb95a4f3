"""The customer card: handles, conversations, notes, public exposures and merge candidates. No
writes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, or_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from connectors.base import Direction, Visibility
from socialdesk.store.models import (
    Contact,
    Conversation,
    Handle,
    Message,
    Note,
    PrivacyExposure,
    Status,
)
from socialdesk.store.queries.queue import last_customer_spans, last_customer_text
from socialdesk.store.tables import ACCOUNT, CONTACT, CONVERSATION, HANDLE


@dataclass(frozen=True)
class CardHandle:
    platform: str
    username: str | None
    display_name: str | None


@dataclass(frozen=True)
class CardConversation:
    id: int
    platform: str
    channel: str
    status: Status
    last_message_at: datetime | None


@dataclass(frozen=True)
class CardNote:
    initials: str
    text: str
    created_at: datetime
    conversation_id: int | None


@dataclass(frozen=True)
class CustomerCard:
    contact_id: int
    display_name: str | None
    handles: list[CardHandle]
    conversations: list[CardConversation]
    notes: list[CardNote]
    public_types: list[str]
    """Kinds of personal data the customer showed in public messages (an exposure)."""
    private_types: list[str] = field(default_factory=list)
    """Kinds they shared in private messages: where they belong, worth knowing, no alarm."""
    verified_at: datetime | None = None
    """When an operator confirmed who this person is; None: not verified."""
    verified_by: str | None = None
    verified_method: str | None = None
    public_exposures: list[CardExposure] = field(default_factory=list)
    """Personal data shown in public and what the privacy guard did about it, newest first."""


@dataclass(frozen=True)
class CardExposure:
    conversation_id: int
    types: str
    detected_at: datetime
    outcome: str


CARD_CONVERSATIONS = 20
"""Earlier conversations shown on the card, newest first."""


def customer_card(engine: Engine, contact_id: int) -> CustomerCard | None:
    """The customer card: handles, conversations on every channel, notes, exposed data types."""
    with Session(engine) as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            return None
        handles = session.exec(
            select(Handle).where(Handle.contact_id == contact_id).order_by(col(Handle.platform))
        ).all()
        conversation = CONVERSATION.c
        conversations = session.connection().execute(
            core_select(conversation.id, ACCOUNT.c.platform, conversation.channel,
                        conversation.status, conversation.last_message_at)
            .join(ACCOUNT, ACCOUNT.c.id == conversation.account_id)
            .where(conversation.contact_id == contact_id)
            .order_by(conversation.last_message_at.desc())
            .limit(CARD_CONVERSATIONS)
        ).all()
        return CustomerCard(
            contact_id=contact_id,
            display_name=contact.display_name,
            handles=[CardHandle(h.platform, h.username, h.display_name) for h in handles],
            conversations=[CardConversation(*row) for row in conversations],
            notes=_card_notes(session, contact_id),
            public_types=_shared_types(session, contact_id, Visibility.PUBLIC),
            private_types=_shared_types(session, contact_id, Visibility.PRIVATE),
            verified_at=contact.verified_at, verified_by=contact.verified_by,
            verified_method=contact.verified_method,
            public_exposures=_public_exposures(session, contact_id),
        )


@dataclass(frozen=True)
class StoredText:
    """A message's text, unmasked, with the `[start, end, type]` spans stored for it."""

    text: str
    spans: list[list[Any]] | None = None


def customer_previews(engine: Engine, conversation_ids: list[int]) -> dict[int, StoredText]:
    """What the customer said last in each conversation, as the queue's preview (unmasked,
    with its stored spans: the caller masks it); "" when they have said nothing there."""
    if not conversation_ids:
        return {}
    conversation = CONVERSATION.c
    with Session(engine) as session:
        rows = session.connection().execute(
            core_select(conversation.id, last_customer_text(), last_customer_spans())
            .where(conversation.id.in_(conversation_ids))
        ).all()
    return {int(row[0]): StoredText(row[1], row[2]) for row in rows}


def _public_exposures(session: Session, contact_id: int) -> list[CardExposure]:
    conversation_ids = select(Conversation.id).where(Conversation.contact_id == contact_id)
    rows = session.exec(
        select(PrivacyExposure.conversation_id, PrivacyExposure.types,
               PrivacyExposure.detected_at, PrivacyExposure.outcome)
        .where(col(PrivacyExposure.conversation_id).in_(conversation_ids))
        .order_by(col(PrivacyExposure.detected_at).desc())
        .limit(CARD_CONVERSATIONS)
    ).all()
    return [CardExposure(*row) for row in rows]


@dataclass(frozen=True)
class ContactChoice:
    """A contact the operator may merge with: name and handles, to tell people apart."""

    contact_id: int
    display_name: str | None
    handles: list[tuple[str, str | None]]
    """(platform, username) of each handle."""


MERGE_CANDIDATES = 50


def merge_candidates(engine: Engine, contact_id: int, words: str = "",
                     limit: int = MERGE_CANDIDATES) -> list[ContactChoice]:
    """Contacts (not merged away, not `contact_id`) whose name or handle contains one of
    `words`; without words, one of the words of this contact's own name and handles.

    Substring matches only: the TUI ranks them by similarity. A leading-wildcard LIKE
    reads the contact and handle tables once, a few ms at 50,000 contacts.
    """
    with Session(engine) as session:
        if not words.strip():
            words = " ".join(_own_words(session, contact_id))
        tokens = [token for token in re.findall(r"\w+", words.lower()) if len(token) >= 2][:6]
        if not tokens:
            return []
        contact, handle = CONTACT.c, HANDLE.c
        matching = [or_(func.lower(contact.display_name).contains(token, autoescape=True),
                        func.lower(handle.username).contains(token, autoescape=True),
                        func.lower(handle.display_name).contains(token, autoescape=True))
                    for token in tokens]
        found = session.exec(
            select(contact.id).distinct()
            .select_from(CONTACT)
            .join(HANDLE, handle.contact_id == contact.id, isouter=True)
            .where(contact.id != contact_id, contact.merged_into_id.is_(None), or_(*matching))
            .order_by(contact.id)
            .limit(limit)
        ).all()
        ids = [int(found_id) for found_id in found]
        if not ids:
            return []
        names = dict(session.exec(
            select(Contact.id, Contact.display_name).where(col(Contact.id).in_(ids))).all())
        handles: dict[int, list[tuple[str, str | None]]] = {}
        for owner, platform, username in session.exec(
            select(Handle.contact_id, Handle.platform, Handle.username)
            .where(col(Handle.contact_id).in_(ids)).order_by(col(Handle.platform))
        ).all():
            handles.setdefault(owner, []).append((platform, username))
    return [ContactChoice(found_id, names.get(found_id), handles.get(found_id, []))
            for found_id in ids]


def _own_words(session: Session, contact_id: int) -> list[str]:
    contact = session.get(Contact, contact_id)
    handles = session.exec(select(Handle.username, Handle.display_name)
                           .where(Handle.contact_id == contact_id)).all()
    values = [contact.display_name if contact else None]
    values += [value for pair in handles for value in pair]
    return [value for value in values if value]


def _card_notes(session: Session, contact_id: int) -> list[CardNote]:
    conversation_ids = select(Conversation.id).where(Conversation.contact_id == contact_id)
    notes = session.exec(
        select(Note)
        .where(or_(col(Note.contact_id) == contact_id,
                   col(Note.conversation_id).in_(conversation_ids)))
        .order_by(col(Note.created_at).desc(), col(Note.id).desc())
    ).all()
    return [CardNote(n.initials, n.text, n.created_at, n.conversation_id) for n in notes]


def _shared_types(session: Session, contact_id: int, visibility: Visibility) -> list[str]:
    """Which kinds of personal data this customer has sent us in messages of `visibility`,
    never the values."""
    conversation_ids = select(Conversation.id).where(Conversation.contact_id == contact_id)
    found = session.exec(
        select(Message.pii_types).distinct()
        .where(col(Message.conversation_id).in_(conversation_ids), col(Message.has_pii),
               col(Message.visibility) == visibility.value,
               col(Message.direction) == Direction.INBOUND.value)
    ).all()
    return sorted({kind for types in found if types for kind in types.split(",") if kind})
