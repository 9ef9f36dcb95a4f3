"""Links the authors of pulled items to contact cards: one contact per platform user.

A handle another process stored meanwhile wins; the re-read after the insert finds it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from connectors.base import Direction, InboundItem
from socialdesk.store.bulk import existing, insert_ignore
from socialdesk.store.tables import CONTACT, HANDLE


def link_contacts(
    session: Session, items: list[InboundItem], now: datetime
) -> dict[str, int]:
    """One contact per platform user: author id -> contact id, creating what is missing."""
    authors: dict[tuple[str, str], InboundItem] = {}
    for item in items:
        if item.direction is Direction.INBOUND and item.author_id:
            authors[(item.platform, item.author_id)] = item
    contact_ids = _known_handles(session, list(authors))
    missing = [item for key, item in authors.items() if key not in contact_ids]
    if missing:
        _create_contacts(session, missing, now)
        created = [(author.platform, author.author_id or "") for author in missing]
        contact_ids.update(_known_handles(session, created))
    return {author_id: contact for (_platform, author_id), contact in contact_ids.items()}


def _known_handles(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for platform in {platform for platform, _user in keys}:
        users = [user for key_platform, user in keys if key_platform == platform]
        rows = existing(session, HANDLE.c.external_user_id, platform, users, HANDLE.c.contact_id)
        found.update({(platform, user): contact for user, contact in rows})
    return found


def _create_contacts(session: Session, authors: list[InboundItem], now: datetime) -> None:
    """A contact and its first handle per new author. A handle another process stored
    meanwhile wins: its conflict is ignored and the caller's re-read finds it."""
    rows = [{"display_name": a.author_name or a.author_handle, "origin": _origin(a),
             "created_at": now} for a in authors]
    statement = insert_ignore(session, CONTACT, ["origin"]).returning(
        CONTACT.c.id, CONTACT.c.origin
    )
    contact_ids = dict((origin, contact) for contact, origin in
                       session.connection().execute(statement, rows))
    handles = [
        {"contact_id": contact_ids[_origin(a)], "platform": a.platform,
         "external_user_id": a.author_id, "username": a.author_handle,
         "display_name": a.author_name}
        for a in authors if _origin(a) in contact_ids
    ]
    if handles:
        session.connection().execute(
            insert_ignore(session, HANDLE, ["platform", "external_user_id"]), handles
        )


def _origin(author: InboundItem) -> str:
    return f"{author.platform}:{author.author_id}"
