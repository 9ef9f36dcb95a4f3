"""Stores one pulled page in one transaction: dedupe, thread, link contacts, advance the cursor.

Idempotent on `(platform, external_id)`: a page stored twice (a retried walk, two
overlapping syncs) adds nothing the second time. The stream's cursor is written in the
same transaction as the items it covers, so a crash loses nothing and doubles nothing.
Bulk Core statements, not ORM objects: the ORM is 8x slower on this path (PLATFORMS.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from connectors.base import Direction, InboundItem, PullPage
from socialdesk.models import (
    Account,
    Contact,
    Conversation,
    Handle,
    Message,
    QuarantineEntry,
    Status,
    SyncCursor,
    utc_now,
)

DIALECT_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
LOOKUP_CHUNK = 500
"""Ids per IN (...) lookup; well under SQLite's bound-parameter limit."""


@dataclass
class IngestReport:
    """What one page changed; `new_message_ids` feeds the privacy guard and the TUI."""

    new_message_ids: list[int] = field(default_factory=list)
    new_inbound_ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    quarantined: int = 0
    touched_conversation_ids: set[int] = field(default_factory=set)

    def merge(self, other: IngestReport) -> None:
        self.new_message_ids += other.new_message_ids
        self.new_inbound_ids += other.new_inbound_ids
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.touched_conversation_ids |= other.touched_conversation_ids


def ensure_account(engine: Engine, name: str, platform: str) -> Account:
    """The account's row, created on first sight; names are the link to config."""
    with Session(engine, expire_on_commit=False) as session:
        account = session.exec(select(Account).where(Account.name == name)).first()
        if account is None:
            account = Account(name=name, platform=platform)
            session.add(account)
            session.commit()
        return account


def ingest_page(session: Session, account: Account, page: PullPage) -> IngestReport:
    """Store `page` for `account` and commit; nothing is written if anything fails."""
    try:
        report = _store_page(session, account, page)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


def _store_page(session: Session, account: Account, page: PullPage) -> IngestReport:
    assert account.id is not None
    report = IngestReport()
    items = sorted(_unique(page.items), key=lambda item: item.created_at)
    if items:
        fresh = _drop_known(session, items)
        report.duplicates = len(items) - len(fresh)
        if fresh:
            contact_ids = _link_contacts(session, fresh)
            conversation_ids = _thread(session, account, fresh, contact_ids)
            new_rows = _insert_messages(session, account, fresh, conversation_ids)
            report.duplicates += len(fresh) - len(new_rows)
            _record_new(report, new_rows)
            _refresh_conversations(session, report.touched_conversation_ids, new_rows)
    report.quarantined = _quarantine(session, account, page)
    _advance_cursor(session, account, page)
    return report


def _unique(items: Iterable[InboundItem]) -> list[InboundItem]:
    """A page may repeat an item (a post edited between two requests); keep the first."""
    seen: dict[tuple[str, str], InboundItem] = {}
    for item in items:
        seen.setdefault((item.platform, item.external_id), item)
    return list(seen.values())


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


def _drop_known(session: Session, items: list[InboundItem]) -> list[InboundItem]:
    """Skip stored items before threading, so a re-pull creates no empty conversations."""
    keys = [(item.platform, item.external_id) for item in items]
    known: set[tuple[str, str]] = set()
    for chunk in _chunks(keys):
        rows = session.exec(
            select(Message.platform, Message.external_id).where(
                tuple_(col(Message.platform), col(Message.external_id)).in_(chunk)
            )
        )
        known.update((platform, external_id) for platform, external_id in rows)
    return [item for item in items if (item.platform, item.external_id) not in known]


def _link_contacts(session: Session, items: list[InboundItem]) -> dict[str, int]:
    """One contact per platform user: author id -> contact id, creating what is missing."""
    authors: dict[tuple[str, str], InboundItem] = {}
    for item in items:
        if item.direction is Direction.INBOUND and item.author_id:
            authors[(item.platform, item.author_id)] = item
    contact_ids = _known_handles(session, list(authors))
    for key, item in authors.items():
        if key in contact_ids:
            continue
        contact_ids[key] = _create_contact(session, item)
    return {author_id: contact for (_platform, author_id), contact in contact_ids.items()}


def _known_handles(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(keys):
        rows = session.exec(
            select(Handle.platform, Handle.external_user_id, Handle.contact_id).where(
                tuple_(col(Handle.platform), col(Handle.external_user_id)).in_(chunk)
            )
        )
        for platform, user_id, contact_id in rows:
            found[(platform, user_id)] = contact_id
    return found


def _create_contact(session: Session, item: InboundItem) -> int:
    assert item.author_id is not None
    name = item.author_name or item.author_handle
    contact_id = session.exec(
        DIALECT_INSERT[_dialect(session)](Contact)
        .values(display_name=name, created_at=utc_now())
        .returning(col(Contact.id))
    ).scalar_one()
    session.exec(
        _insert_ignore(session, Handle, ["platform", "external_user_id"]).values(
            contact_id=contact_id,
            platform=item.platform,
            external_user_id=item.author_id,
            username=item.author_handle,
            display_name=item.author_name,
        )
    )
    owner = session.exec(
        select(Handle.contact_id).where(
            Handle.platform == item.platform, Handle.external_user_id == item.author_id
        )
    ).scalar_one()
    if owner != contact_id:  # another process linked this user first: use its contact
        session.exec(delete(Contact).where(col(Contact.id) == contact_id))
    return int(owner)


def _thread(
    session: Session, account: Account, items: list[InboundItem], contact_ids: dict[str, int]
) -> dict[str, int]:
    """external_id -> conversation id: join the parent's conversation, else the thread's."""
    by_parent = _conversations_of_parents(session, items)
    by_thread = _conversations_of_threads(session, account, [item.thread_key for item in items])
    assigned: dict[str, int] = {}
    for item in items:
        conversation_id = (
            assigned.get(item.parent_external_id or "")
            or by_parent.get(item.parent_external_id or "")
            or by_thread.get(item.thread_key)
        )
        if conversation_id is None:
            conversation_id = _open_conversation(session, account, item, contact_ids)
            by_thread[item.thread_key] = conversation_id
        assigned[item.external_id] = conversation_id
    return assigned


def _conversations_of_parents(session: Session, items: list[InboundItem]) -> dict[str, int]:
    parents = sorted({item.parent_external_id for item in items if item.parent_external_id})
    platform = items[0].platform
    found: dict[str, int] = {}
    for chunk in _chunks(parents):
        rows = session.exec(
            select(Message.external_id, Message.conversation_id).where(
                Message.platform == platform, col(Message.external_id).in_(chunk)
            )
        )
        found.update({external_id: conversation for external_id, conversation in rows})
    return found


def _conversations_of_threads(
    session: Session, account: Account, thread_keys: list[str]
) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(thread_keys))):
        rows = session.exec(
            select(Conversation.thread_key, Conversation.id).where(
                Conversation.account_id == account.id, col(Conversation.thread_key).in_(chunk)
            )
        )
        found.update({thread_key: conversation for thread_key, conversation in rows})
    return found


def _open_conversation(
    session: Session, account: Account, item: InboundItem, contact_ids: dict[str, int]
) -> int:
    """A thread our own echo started is not new work; one a customer started is."""
    inbound = item.direction is Direction.INBOUND
    now = utc_now()
    statement = (
        DIALECT_INSERT[_dialect(session)](Conversation)
        .values(
            account_id=account.id,
            channel=item.channel.value,
            visibility=item.visibility.value,
            thread_key=item.thread_key,
            contact_id=contact_ids.get(item.author_id or "") if inbound else None,
            status=(Status.NEW if inbound else Status.RESOLVED).value,
            created_at=now,
            updated_at=now,
        )
        .returning(col(Conversation.id))
    )
    return int(session.exec(statement).scalar_one())


def _insert_messages(
    session: Session, account: Account, items: list[InboundItem], conversation_ids: dict[str, int]
) -> list[tuple[int, int, str]]:
    """Insert, skipping rows another process stored meanwhile; (id, conversation, direction)."""
    now = utc_now()
    rows = [_message_row(account, item, conversation_ids[item.external_id], now) for item in items]
    statement = (
        _insert_ignore(session, Message, ["platform", "external_id"])
        .values(rows)
        .returning(col(Message.id), col(Message.conversation_id), col(Message.direction))
    )
    return [(int(a), int(b), str(c)) for a, b, c in session.exec(statement)]


def _message_row(
    account: Account, item: InboundItem, conversation_id: int, now: datetime
) -> dict[str, Any]:
    return {
        "account_id": account.id,
        "conversation_id": conversation_id,
        "platform": item.platform,
        "external_id": item.external_id,
        "parent_external_id": item.parent_external_id,
        "channel": item.channel.value,
        "visibility": item.visibility.value,
        "direction": item.direction.value,
        "author_external_id": item.author_id,
        "author_handle": item.author_handle,
        "author_name": item.author_name,
        "text": item.text,
        "created_at": item.created_at,
        "ingested_at": now,
        "has_pii": False,
        "raw": dict(item.raw),
    }


def _record_new(report: IngestReport, new_rows: list[tuple[int, int, str]]) -> None:
    for message_id, conversation_id, direction in new_rows:
        report.new_message_ids.append(message_id)
        report.touched_conversation_ids.add(conversation_id)
        if direction == Direction.INBOUND.value:
            report.new_inbound_ids.append(message_id)


def _refresh_conversations(
    session: Session, conversation_ids: set[int], new_rows: list[tuple[int, int, str]]
) -> None:
    """Recompute the timestamps from the stored messages, whatever order pages came in."""
    reopened = {conv for _id, conv, direction in new_rows if direction == Direction.INBOUND.value}
    for chunk in _chunks(sorted(conversation_ids)):
        session.exec(_timestamps_update(chunk))
        session.exec(_first_response_update(chunk))
        if reopened:
            session.exec(
                update(Conversation)
                .where(
                    col(Conversation.id).in_([c for c in chunk if c in reopened]),
                    Conversation.status == Status.RESOLVED.value,
                )
                .values(status=Status.OPEN.value, resolved_at=None)
            )


def _timestamps_update(conversation_ids: Sequence[int]) -> Any:
    def edge(aggregate: Any, direction: Direction | None) -> Any:
        where = [Message.conversation_id == Conversation.id]
        if direction is not None:
            where.append(Message.direction == direction.value)
        return select(aggregate(Message.created_at)).where(*where).scalar_subquery()

    return (
        update(Conversation)
        .where(col(Conversation.id).in_(conversation_ids))
        .values(
            opened_at=edge(func.min, Direction.INBOUND),
            last_inbound_at=edge(func.max, Direction.INBOUND),
            last_outbound_at=edge(func.max, Direction.OUTBOUND),
            last_message_at=edge(func.max, None),
            updated_at=utc_now(),
        )
    )


def _first_response_update(conversation_ids: Sequence[int]) -> Any:
    """A second statement: SET sees the old row, so it must run after opened_at is written."""
    first_outbound = (
        select(func.min(Message.created_at))
        .where(
            Message.conversation_id == Conversation.id,
            Message.direction == Direction.OUTBOUND.value,
            Message.created_at >= Conversation.opened_at,
        )
        .scalar_subquery()
    )
    return (
        update(Conversation)
        .where(col(Conversation.id).in_(conversation_ids))
        .values(first_response_at=first_outbound)
    )


def _quarantine(session: Session, account: Account, page: PullPage) -> int:
    if not page.quarantined:
        return 0
    now = utc_now()
    session.exec(
        DIALECT_INSERT[_dialect(session)](QuarantineEntry).values(
            [
                {
                    "account_id": account.id,
                    "stream": page.stream,
                    "external_id": entry.external_id,
                    "reason": entry.reason,
                    "raw": dict(entry.raw),
                    "received_at": now,
                }
                for entry in page.quarantined
            ]
        )
    )
    return len(page.quarantined)


def _advance_cursor(session: Session, account: Account, page: PullPage) -> None:
    """Write the cursor only when the page carries one: a walk's middle pages do not."""
    if page.cursor is None:
        return
    statement = _insert_ignore(session, SyncCursor, ["account_id", "stream"]).values(
        account_id=account.id, stream=page.stream
    )
    session.exec(statement)
    session.exec(
        update(SyncCursor)
        .where(SyncCursor.account_id == account.id, SyncCursor.stream == page.stream)
        .values(cursor=page.cursor)
    )


def _insert_ignore(session: Session, table: Any, conflict_columns: list[str]) -> Any:
    return DIALECT_INSERT[_dialect(session)](table).on_conflict_do_nothing(
        index_elements=conflict_columns
    )


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name
