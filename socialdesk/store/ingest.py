"""Stores one pulled page in one transaction: dedupe, thread, link contacts, advance the cursor.

Idempotent on `(platform, external_id)`: a page stored twice (a retried walk, two
overlapping syncs) adds nothing the second time. The stream's cursor is written in the
same transaction as the items it covers, so a crash loses nothing and doubles nothing.
Bulk Core statements, not ORM objects: the ORM is 8x slower on this path (PLATFORMS.md).

Whether a message holds personal data, and where, is found by the caller's `find_spans`
and written in the message's own INSERT, with the privacy guard's `undecided` mark on an
inbound public one: no crash can store a message the guard will never see. The finder is
a plain function, so this layer knows nothing of the privacy package.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, Engine, select
from sqlmodel import Session, col

from connectors.base import Direction, InboundItem, PullPage, Visibility
from socialdesk.store.bulk import chunks, existing
from socialdesk.store.contacts import link_contacts
from socialdesk.store.models import Account, PrivacyState
from socialdesk.store.quarantine import keep_set_aside
from socialdesk.store.stream_state import advance_cursor
from socialdesk.store.tables import MESSAGE
from socialdesk.store.threads import NewMessage, refresh_conversations, thread_items

Span = tuple[int, int, str]
"""`(start, end, type)` of one piece of personal data in a message's text."""
FindSpans = Callable[[str], list[Span]]
"""Where a text holds personal data; empty when it holds none (the privacy detector)."""


@dataclass
class IngestReport:
    """What one page changed; `new_message_ids` feeds the privacy guard and the TUI."""

    new_message_ids: list[int] = field(default_factory=list)
    new_inbound_ids: list[int] = field(default_factory=list)
    duplicates: int = 0
    quarantined: int = 0
    touched_conversation_ids: set[int] = field(default_factory=set)
    reopened_at: dict[int, datetime] = field(default_factory=dict)
    """Resolved conversations a new inbound message reopened, with that message's time."""

    def merge(self, other: IngestReport) -> None:
        self.new_message_ids += other.new_message_ids
        self.new_inbound_ids += other.new_inbound_ids
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        self.touched_conversation_ids |= other.touched_conversation_ids
        self.reopened_at.update(other.reopened_at)


def ensure_account(engine: Engine, name: str, platform: str, *, now: datetime) -> Account:
    """The account's row, created on first sight; names are the link to config."""
    with Session(engine, expire_on_commit=False) as session:
        account = session.scalars(select(Account).where(col(Account.name) == name)).first()
        if account is None:
            account = Account(name=name, platform=platform, created_at=now)
            session.add(account)
            session.commit()
        return account


def ingest_page(
    session: Session,
    account: Account,
    page: PullPage,
    *,
    now: datetime,
    find_spans: FindSpans | None = None,
    automated: bool = False,
) -> IngestReport:
    """Store `page` for `account` and commit; nothing is written if anything fails.

    `find_spans` marks each new message's personal data (`has_pii`, types, spans) and an
    inbound public one `undecided` for the privacy guard, in the same INSERT; None stores
    the page unscanned (our own sent messages, whose text the desk wrote). `automated`
    marks our own messages that no person wrote (acknowledgements, privacy pointers):
    stored like any other, they are no answer, so they neither start nor stop the
    first-response clock and leave a `new` conversation new. `now` stamps every row the
    page writes (ingested, created, updated).
    """
    try:
        report = _store_page(session, account, page, _Marking(now, automated, find_spans))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


@dataclass(frozen=True)
class _Marking:
    """What every row of one page is stamped with."""

    now: datetime
    automated: bool
    find_spans: FindSpans | None


def _store_page(
    session: Session, account: Account, page: PullPage, marking: _Marking
) -> IngestReport:
    assert account.id is not None
    now = marking.now
    report = IngestReport()
    items = sorted(_unique(page.items), key=lambda item: item.created_at)
    if items:
        stored = _stored_conversations(session, items)
        fresh = [item for item in items if item.external_id not in stored]
        report.duplicates = len(items) - len(fresh)
        if fresh:
            contact_ids = link_contacts(session, fresh, now)
            states: dict[int, dict[str, Any]] = {}
            conversation_ids = thread_items(session, account, fresh, contact_ids, stored, states,
                                            now)
            new_rows = _insert_messages(session, account, fresh, conversation_ids, marking)
            report.duplicates += len(fresh) - len(new_rows)
            _record_new(report, new_rows)
            report.reopened_at = refresh_conversations(session, new_rows, states, now)
    report.quarantined = keep_set_aside(session, account, page, now)
    advance_cursor(session, account, page)
    return report


def _unique(items: Iterable[InboundItem]) -> list[InboundItem]:
    """A page may repeat an item (a post edited between two requests); keep the first."""
    seen: dict[tuple[str, str], InboundItem] = {}
    for item in items:
        seen.setdefault((item.platform, item.external_id), item)
    return list(seen.values())


def _stored_conversations(session: Session, items: list[InboundItem]) -> dict[str, int]:
    """external_id -> conversation id for the page's items and their parents already stored:
    stored items are skipped before threading, so a re-pull opens no empty conversation."""
    wanted = {item.external_id for item in items}
    wanted.update(item.parent_external_id for item in items if item.parent_external_id)
    rows = existing(session, MESSAGE.c.external_id, items[0].platform, sorted(wanted),
                     MESSAGE.c.conversation_id)
    return {external_id: conversation for external_id, conversation in rows}


def _insert_messages(
    session: Session,
    account: Account,
    items: list[InboundItem],
    conversation_ids: dict[str, int],
    marking: _Marking,
) -> list[NewMessage]:
    """Insert, skipping rows another process stored meanwhile; what was really added."""
    connection = session.connection()
    created = {item.external_id: item for item in items}
    new: list[NewMessage] = []
    for chunk in chunks(items, INSERT_CHUNK):
        rows = [_message_row(account, item, conversation_ids[item.external_id], marking)
                for item in chunk]
        sql, parameters = _driver_insert(connection.dialect, rows)
        for message_id, external_id, conversation_id in connection.exec_driver_sql(
            sql, parameters
        ):
            item = created[external_id]
            new.append(NewMessage(int(message_id), int(conversation_id),
                                   item.direction, item.created_at, marking.automated))
    return new


INSERT_CHUNK = 500
"""Rows per INSERT: 20 parameters each stays far below SQLite's 32,766 limit."""


def _driver_insert(dialect: Dialect, rows: list[dict[str, Any]]) -> tuple[str, tuple[Any, ...]]:
    """One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING, straight to the driver.

    The values pass through the columns' own bind processors (of the dialect's type, as
    SQLAlchemy's compiler picks them), so they are stored exactly as SQLAlchemy stores them
    and compare equal to bound parameters. SQLAlchemy's per-row parameter handling cost more
    than the insert itself (measured in benchmarks/ingest.py).
    """
    processors = _bind_processors(dialect)
    parameters = tuple(
        process(row[name]) if process else row[name]
        for row in rows
        for name, process in processors
    )
    return _insert_sql(dialect.name, dialect.paramstyle, len(rows)), parameters


@functools.cache
def _insert_sql(dialect_name: str, paramstyle: str, row_count: int) -> str:
    marker = "?" if paramstyle == "qmark" else "%s"
    placeholders = [f"CAST({marker} AS JSON)" if name in JSON_COLUMNS
                    and dialect_name == "postgresql" else marker for name in MESSAGE_COLUMNS]
    values = ", ".join(f"({', '.join(placeholders)})" for _ in range(row_count))
    return (
        f"INSERT INTO message ({', '.join(MESSAGE_COLUMNS)}) VALUES {values} "
        "ON CONFLICT (platform, external_id) DO NOTHING "
        "RETURNING id, external_id, conversation_id"
    )


_PROCESSORS: dict[str, list[tuple[str, Callable[[Any], Any] | None]]] = {}


def _bind_processors(dialect: Dialect) -> list[tuple[str, Callable[[Any], Any] | None]]:
    if dialect.name not in _PROCESSORS:
        _PROCESSORS[dialect.name] = [
            (name, _json if name in JSON_COLUMNS else
             MESSAGE.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in MESSAGE_COLUMNS
        ]
    return _PROCESSORS[dialect.name]


def _json(value: Any) -> str | None:
    """JSON text; None stays SQL NULL (a message without spans), as the ORM stores it."""
    return None if value is None else json.dumps(value)


JSON_COLUMNS = frozenset({"raw", "pii_spans"})
MESSAGE_COLUMNS = (
    "account_id", "conversation_id", "platform", "external_id", "parent_external_id", "channel",
    "visibility", "direction", "author_external_id", "author_handle", "author_name", "text",
    "created_at", "ingested_at", "has_pii", "pii_types", "pii_spans", "privacy_state",
    "automated", "raw",
)


def _message_row(
    account: Account, item: InboundItem, conversation_id: int, marking: _Marking
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
        "ingested_at": marking.now,
        **_personal_data(item, marking.find_spans),
        "automated": marking.automated,
        "raw": dict(item.raw),
    }


def _personal_data(item: InboundItem, find_spans: FindSpans | None) -> dict[str, Any]:
    """has_pii, types and spans (offsets and types, never values), and the guard's mark:
    only a customer's public message can leave personal data in public."""
    spans = find_spans(item.text) if find_spans is not None and item.text else []
    if not spans:
        return {"has_pii": False, "pii_types": None, "pii_spans": None, "privacy_state": None}
    exposed = (item.direction is Direction.INBOUND
               and item.visibility is Visibility.PUBLIC)
    return {
        "has_pii": True,
        "pii_types": ",".join(sorted({kind for _start, _end, kind in spans})),
        "pii_spans": [[start, end, kind] for start, end, kind in spans],
        "privacy_state": PrivacyState.UNDECIDED.value if exposed else None,
    }


def _record_new(report: IngestReport, new_messages: list[NewMessage]) -> None:
    for message in new_messages:
        report.new_message_ids.append(message.id)
        report.touched_conversation_ids.add(message.conversation_id)
        if message.direction is Direction.INBOUND:
            report.new_inbound_ids.append(message.id)


