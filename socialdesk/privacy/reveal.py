"""Showing one message's personal data in clear, on purpose, with an audit row."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.errors import SocialdeskError
from socialdesk.models import AuditEntry, Message


class RevealError(SocialdeskError):
    title = "cannot reveal"
    exit_code = 2


def reveal(engine: Engine, message_id: int, operator: str) -> str:
    """The message's text in clear; records who asked and when (the audit row's `at`).

    Raises:
        RevealError: no such message, or no operator named.
    """
    if not operator.strip():
        raise RevealError("a reveal must name the operator who asks for it")
    with Session(engine) as session:
        message = session.get(Message, message_id)
        if message is None:
            raise RevealError(f"no message {message_id}")
        session.add(AuditEntry(
            actor=operator, action="reveal", target_type="message", target_id=str(message_id),
            detail={"types": message.pii_types or ""},
        ))
        session.commit()
        return message.text
