"""A small, fixed store for the TUI tests and snapshots: same rows, same clock, every run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select
from textual.pilot import Pilot

from socialdesk.privacy.detect import Detector
from socialdesk.store.db import open_store
from socialdesk.store.models import Account, Contact, Conversation, Handle, Message, Note

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
"""The frozen clock of every TUI test."""

HOSTILE_TEXT = "[bold]free[/bold] [link=https://evil.example]click[/link] \x1b[31mred\x1b[0m ok"
"""Customer text that would be markup or terminal escapes if the TUI interpreted it."""

CUSTOMERS = [
    # (name, username, platform, channel, visibility, status, minutes ago, text, pii)
    ("Giulia Rossi", "giulia_r", "x", "mention", "public", "new", 5,
     "@brand my order hasn't arrived, call me at +39 347 123 4567", "PHONE"),
    ("Marco Bianchi", "marcob", "x", "dm", "private", "open", 40,
     "Hi, the refund for booking ABC123 is still missing", "REFERENCE"),
    ("Anna Verdi", "anna.verdi", "facebook", "comment", "public", "new", 90,
     "Il pacco è arrivato rotto, come faccio il reso?", None),
    ("Luca Neri", "luca.neri", "facebook", "messenger", "private", "resolved", 300,
     "Thanks, all sorted now!", None),
    ("Sara Gialli", "sarag", "facebook", "visitor_post", "public", "open", 1500,
     "My IBAN IT60X0542811101000000123456 was charged twice", "IBAN"),
    ("Hostile Person", "hostile", "x", "mention", "public", "new", 15, HOSTILE_TEXT, None),
]


async def settle(pilot: Pilot[None]) -> None:
    """Wait until the desk has nothing in flight: its reads and writes run in thread
    workers and post what they found, and keys pressed meanwhile may be held for the
    screen being read. Done when no worker runs, no key waits, and the messages the
    workers posted have been handled."""
    app = pilot.app
    for _ in range(200):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not getattr(app, "busy", False):
            return
    raise AssertionError("the desk still had work in flight after 200 rounds")


def build_desk_store(url: str) -> Engine:
    """Six conversations on both platforms, each customer a contact of their own; the
    answered ones carry our reply, Marco's a note. (`marco_with_history` in
    test_card_history gives Marco a Facebook handle and earlier conversations.)"""
    engine = open_store(url)
    with Session(engine) as session:
        accounts = {"x": Account(name="brand-x", platform="x", created_at=NOW),
                    "facebook": Account(name="brand-facebook", platform="facebook",
                                        created_at=NOW)}
        session.add_all(accounts.values())
        session.flush()
        for number, row in enumerate(CUSTOMERS, start=1):
            _conversation(session, accounts, number, *row)
        session.commit()
    return engine


def _conversation(session: Session, accounts: dict[str, Account], number: int, name: str,
                  username: str, platform: str, channel: str, visibility: str, status: str,
                  minutes_ago: int, text: str, pii: str | None) -> None:
    at = NOW - timedelta(minutes=minutes_ago)
    contact = Contact(display_name=name, origin=f"{platform}:{number}", created_at=at)
    session.add(contact)
    session.flush()
    session.add(Handle(contact_id=contact.id or 0, platform=platform,
                       external_user_id=str(number), username=username, display_name=name))
    account = accounts[platform]
    answered = status != "new"
    conversation = Conversation(
        account_id=account.id or 0, channel=channel, visibility=visibility,
        thread_key=f"t{number}", contact_id=contact.id, status=status, opened_at=at,
        last_inbound_at=at, last_message_at=at + timedelta(minutes=3) if answered else at,
        first_response_at=at + timedelta(minutes=3) if answered else None,
        last_outbound_at=at + timedelta(minutes=3) if answered else None,
        created_at=at, updated_at=at,
    )
    session.add(conversation)
    session.flush()
    session.add(_message(account, conversation, number, "inbound", username, name, text, at, pii))
    if answered:
        session.add(_message(account, conversation, number + 100, "outbound", "brand", "Brand",
                             "We're on it: we've sent you a private message.",
                             at + timedelta(minutes=3), None))
    if number == 2:
        session.add(Note(conversation_id=conversation.id, contact_id=contact.id, initials="LB",
                         text="Refund approved by finance", created_at=at))


def _message(account: Account, conversation: Conversation, number: int, direction: str,
             handle: str, name: str, text: str, at: datetime, pii: str | None) -> Message:
    return Message(
        account_id=account.id or 0, conversation_id=conversation.id or 0,
        platform=account.platform, external_id=f"m{number}", channel=conversation.channel,
        visibility=conversation.visibility, direction=direction, author_external_id=str(number),
        author_handle=handle, author_name=name, text=text, created_at=at, ingested_at=at,
        has_pii=pii is not None, pii_types=pii, pii_spans=stored_spans(text) if pii else None,
        raw={},
    )


def stored_spans(text: str) -> list[list[object]]:
    """The spans ingest stores for `text` (the desk masks with them, never scanning)."""
    return [[entity.start, entity.end, entity.type] for entity in Detector().scan(text)]


def add_conversation(engine: Engine, name: str, text: str, at: datetime) -> int:
    """One more new X mention, as a sync would add it (updated_at moves forward)."""
    with Session(engine) as session:
        account = session.exec(select(Account).where(Account.platform == "x")).one()
        number = 1000 + len(session.exec(select(Conversation.id)).all())
        contact = Contact(display_name=name, origin=f"x:{number}", created_at=at)
        session.add(contact)
        session.flush()
        conversation = Conversation(
            account_id=account.id or 0, channel="mention", visibility="public",
            thread_key=f"t{number}", contact_id=contact.id, status="new", opened_at=at,
            last_inbound_at=at, last_message_at=at, created_at=at, updated_at=max(at, NOW),
        )
        session.add(conversation)
        session.flush()
        session.add(_message(account, conversation, number, "inbound", f"user{number}", name,
                             text, at, None))
        session.commit()
        return conversation.id or 0
