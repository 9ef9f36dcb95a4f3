"""Links the authors of pulled items to contact cards: one contact per platform user.

Per page: one lookup of the authors' handles, and for the new authors one multi-row
INSERT of contacts and one of handles. A handle another process stored meanwhile wins;
the re-read after the insert finds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from connectors.base import Direction, InboundItem
from socialdesk.store.bulk import chunks
from socialdesk.store.driver import Driver, Query

KNOWN_HANDLES = ("SELECT platform, external_user_id, contact_id FROM handle "
                 "WHERE platform = {mark} AND external_user_id {any_of}")
"""The authors' lookup: an index lookup on `uq_handle_platform_user` at any size."""

Author = tuple[str, str]
"""(platform, user id)."""


def page_authors(items: list[InboundItem]) -> dict[Author, InboundItem]:
    """The customers who wrote the page's items: the people who need a contact card."""
    authors: dict[Author, InboundItem] = {}
    for item in items:
        if item.direction is Direction.INBOUND and item.author_id:
            authors[(item.platform, item.author_id)] = item
    return authors


def handle_lookups(driver: Driver, authors: Iterable[Author]) -> list[Query]:
    """The queries that find the authors' handles (their rows feed `link_contacts`)."""
    by_platform: dict[str, list[str]] = {}
    for platform, user in authors:
        by_platform.setdefault(platform, []).append(user)
    return [query for platform, users in by_platform.items()
            for query in driver.lookups(KNOWN_HANDLES, platform, users)]


def link_contacts(
    driver: Driver, authors: dict[Author, InboundItem], handles: Iterable[tuple[Any, ...]],
    now: datetime,
) -> dict[str, int]:
    """One contact per platform user: author id -> contact id, creating what is missing.
    `handles` are the rows of `handle_lookups`."""
    contact_ids = {(platform, user): int(contact) for platform, user, contact in handles}
    missing = [item for key, item in authors.items() if key not in contact_ids]
    if missing:
        contact_ids.update(_create_contacts(driver, missing, now))
        lost = [key for key in authors if key not in contact_ids]
        if lost:  # another process stored these handles meanwhile: theirs win
            contact_ids.update(
                {(platform, user): int(contact)
                 for rows in driver.rows_together(handle_lookups(driver, lost))
                 for platform, user, contact in rows})
    return {author_id: contact for (_platform, author_id), contact in contact_ids.items()
            if (_platform, author_id) in authors}


def _create_contacts(
    driver: Driver, authors: list[InboundItem], now: datetime
) -> dict[tuple[str, str], int]:
    """A contact and its first handle per new author; the handles really added. A contact
    or handle another process stored meanwhile wins: its conflict is ignored."""
    added: dict[tuple[str, str], int] = {}
    for chunk in chunks(authors):
        contact_ids = _insert_contacts(driver, chunk, now)
        handles = [(contact_ids[_origin(author)], author.platform, author.author_id,
                    author.author_handle, author.author_name)
                   for author in chunk if _origin(author) in contact_ids]
        rows = driver.insert(
            "handle", HANDLE_COLUMNS, handles,
            "ON CONFLICT (platform, external_user_id) DO NOTHING "
            "RETURNING platform, external_user_id, contact_id",
        )
        added.update({(platform, user): int(contact) for platform, user, contact in rows})
    return added


HANDLE_COLUMNS = (("contact_id", "integer"), ("platform", "text"),
                  ("external_user_id", "text"), ("username", "text"), ("display_name", "text"))
CONTACT_COLUMNS = (("display_name", "text"), ("origin", "text"), ("created_at", "timestamptz"))


def _insert_contacts(
    driver: Driver, authors: Sequence[InboundItem], now: datetime
) -> dict[str, int]:
    """origin -> id of the contacts this statement created."""
    stamp = driver.time(now)
    rows = driver.insert(
        "contact", CONTACT_COLUMNS,
        [(author.author_name or author.author_handle, _origin(author), stamp)
         for author in authors],
        "ON CONFLICT (origin) DO NOTHING RETURNING id, origin",
    )
    return {origin: int(contact) for contact, origin in rows}


def _origin(author: InboundItem) -> str:
    return f"{author.platform}:{author.author_id}"
