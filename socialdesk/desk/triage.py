"""Operator actions that send nothing: status, assignment, notes, contact merges, reveals.

Each one is a single transaction that also writes an `AuditEntry` signed by the operator,
so "who resolved this, who saw that IBAN" has an answer. Sending lives in `inbox`/`outbox`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from socialdesk.clock import Clock
from socialdesk.errors import SocialdeskError
from socialdesk.store.models import (
    AuditEntry,
    Contact,
    Conversation,
    Handle,
    Message,
    Note,
    Status,
)


class TriageError(SocialdeskError):
    """An operator action named something that is not there (or not allowed)."""

    title = "cannot do that"


def set_status(
    engine: Engine, conversation_id: int, status: Status, actor: str, *, now: Clock
) -> None:
    """Mark a conversation new (red), open (yellow) or resolved (green).

    Raises:
        TriageError: no such conversation.
    """
    with Session(engine) as session:
        conversation = _conversation(session, conversation_id)
        previous = conversation.status
        moment = now()
        conversation.status = Status(status)
        conversation.resolved_at = moment if status is Status.RESOLVED else None
        conversation.updated_at = moment
        session.add(conversation)
        _audit(session, moment, actor, "set_status", "conversation", conversation_id,
               {"from": previous, "to": conversation.status})
        session.commit()


def assign(
    engine: Engine, conversation_id: int, assignee: str | None, actor: str, *, now: Clock
) -> None:
    """Give a conversation to `assignee` (initials), or to nobody with None.

    Raises:
        TriageError: no such conversation.
    """
    with Session(engine) as session:
        conversation = _conversation(session, conversation_id)
        previous = conversation.assignee
        moment = now()
        conversation.assignee = assignee
        conversation.updated_at = moment
        session.add(conversation)
        _audit(session, moment, actor, "assign", "conversation", conversation_id,
               {"from": previous, "to": assignee})
        session.commit()


def add_note(
    engine: Engine, conversation_id: int, initials: str, text: str, *, now: Clock
) -> int:
    """Leave a note on a conversation, signed with the operator's initials (seed 004).

    The note is also attached to the conversation's contact, so it shows on the customer
    card from any of their conversations. Returns the note's id.

    Raises:
        TriageError: no such conversation, or an empty note.
    """
    if not text.strip():
        raise TriageError("a note needs some text")
    with Session(engine) as session:
        conversation = _conversation(session, conversation_id)
        moment = now()
        note = Note(conversation_id=conversation_id, contact_id=conversation.contact_id,
                    initials=initials, text=text.strip(), created_at=moment)
        session.add(note)
        conversation.updated_at = moment
        session.add(conversation)
        session.flush()
        _audit(session, moment, initials, "add_note", "conversation", conversation_id,
               {"note_id": note.id})
        session.commit()
        return note.id or 0


def merge_contacts(
    engine: Engine, source_id: int, target_id: int, actor: str, *, now: Clock
) -> None:
    """Fold contact `source_id` into `target_id`: one card for one person across platforms.

    Handles, conversations and notes move; the source row stays, pointing at the target
    through `merged_into_id`, so its `origin` still maps back.

    Raises:
        TriageError: either contact is missing, or both are the same.
    """
    if source_id == target_id:
        raise TriageError("a contact cannot be merged into itself")
    with Session(engine) as session:
        moment = now()
        source = session.get(Contact, source_id)
        target = session.get(Contact, target_id)
        if source is None or target is None:
            raise TriageError(f"no contact {source_id if source is None else target_id}")
        for table, column in ((Handle, Handle.contact_id), (Conversation, Conversation.contact_id),
                              (Note, Note.contact_id)):
            session.exec(update(table).where(col(column) == source_id)
                         .values(contact_id=target_id))
        session.exec(update(Conversation).where(col(Conversation.contact_id) == target_id)
                     .values(updated_at=moment))
        source.merged_into_id = target_id
        session.add(source)
        _audit(session, moment, actor, "merge_contacts", "contact", target_id,
               {"merged": source_id})
        session.commit()


def reveal(
    engine: Engine, conversation_id: int, actor: str, *, now: Clock
) -> dict[int, str]:
    """The conversation's message texts in clear, by message id; the reveal is audited.

    Raises:
        TriageError: no such conversation.
    """
    with Session(engine) as session:
        _conversation(session, conversation_id)
        messages = session.exec(
            select(Message.id, Message.text).where(Message.conversation_id == conversation_id)
        ).all()
        _audit(session, now(), actor, "reveal", "conversation", conversation_id,
               {"messages": len(messages)})
        session.commit()
    return {message_id: text for message_id, text in messages if message_id is not None}


def _conversation(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise TriageError(f"no conversation {conversation_id}")
    return conversation


def _audit(session: Session, at: datetime, actor: str, action: str, target_type: str,
           target_id: int, detail: dict[str, object]) -> None:
    session.add(AuditEntry(at=at, actor=actor, action=action, target_type=target_type,
                           target_id=str(target_id), detail=detail))
