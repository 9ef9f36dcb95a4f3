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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect, Engine, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from connectors.base import Direction, InboundItem, PullPage, Visibility
from socialdesk.store.models import Account, PrivacyState, Status
from socialdesk.store.quarantine import fingerprint
from socialdesk.store.tables import CONTACT, CONVERSATION, CURSOR, HANDLE, MESSAGE, QUARANTINE

DIALECT_INSERT: dict[str, Any] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
"""ON CONFLICT is dialect-specific in SQLAlchemy; both dialects spell it the same."""
LOOKUP_CHUNK = 500
"""Ids per IN (...) lookup; well under SQLite's bound-parameter limit."""

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
            contact_ids = _link_contacts(session, fresh, now)
            states: dict[int, dict[str, Any]] = {}
            conversation_ids = _thread(session, account, fresh, contact_ids, stored, states, now)
            new_rows = _insert_messages(session, account, fresh, conversation_ids, marking)
            report.duplicates += len(fresh) - len(new_rows)
            _record_new(report, new_rows)
            report.reopened_at = _refresh_conversations(session, new_rows, states, now)
    report.quarantined = _quarantine(session, account, page, now)
    _advance_cursor(session, account, page)
    return report


def _unique(items: Iterable[InboundItem]) -> list[InboundItem]:
    """A page may repeat an item (a post edited between two requests); keep the first."""
    seen: dict[tuple[str, str], InboundItem] = {}
    for item in items:
        seen.setdefault((item.platform, item.external_id), item)
    return list(seen.values())


def _chunks(values: Sequence[Any], size: int = LOOKUP_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _stored_conversations(session: Session, items: list[InboundItem]) -> dict[str, int]:
    """external_id -> conversation id for the page's items and their parents already stored:
    stored items are skipped before threading, so a re-pull opens no empty conversation."""
    wanted = {item.external_id for item in items}
    wanted.update(item.parent_external_id for item in items if item.parent_external_id)
    rows = _existing(session, MESSAGE.c.external_id, items[0].platform, sorted(wanted),
                     MESSAGE.c.conversation_id)
    return {external_id: conversation for external_id, conversation in rows}


def _existing(session: Session, column: Any, platform: str, values: Sequence[str],
              *extra: Any) -> Iterator[Any]:
    """Rows of `column`'s table for one platform and these ids; one platform per page, so
    a plain IN uses the unique index where a row-value IN would scan (SQLite). The list is
    one expanding parameter: a literal list costs a coercion per value, 0.5 ms a page."""
    statement = _lookup_statement(column, *extra)
    for chunk in _chunks(values):
        yield from session.connection().execute(
            statement, {"platform": platform, "values": list(chunk)}
        )


@functools.cache
def _lookup_statement(column: Any, *extra: Any) -> Any:
    """Built once: constructing a statement and its cache key costs more than running it."""
    return select(column, *extra).where(
        column.table.c.platform == bindparam("platform"),
        column.in_(bindparam("values", expanding=True)),
    )


def _link_contacts(
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
        rows = _existing(session, HANDLE.c.external_user_id, platform, users, HANDLE.c.contact_id)
        found.update({(platform, user): contact for user, contact in rows})
    return found


def _create_contacts(session: Session, authors: list[InboundItem], now: datetime) -> None:
    """A contact and its first handle per new author. A handle another process stored
    meanwhile wins: its conflict is ignored and the caller's re-read finds it."""
    rows = [{"display_name": a.author_name or a.author_handle, "origin": _origin(a),
             "created_at": now} for a in authors]
    statement = _insert_ignore(session, CONTACT, ["origin"]).returning(
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
            _insert_ignore(session, HANDLE, ["platform", "external_user_id"]), handles
        )


def _origin(author: InboundItem) -> str:
    return f"{author.platform}:{author.author_id}"


_Pending = tuple[str, str]
"""("new", thread_key): a conversation this page opens, created in bulk afterwards."""


def _thread(
    session: Session,
    account: Account,
    items: list[InboundItem],
    contact_ids: dict[str, int],
    by_parent: dict[str, int],
    states: dict[int, dict[str, Any]],
    now: datetime,
) -> dict[str, int]:
    """external_id -> conversation id: join the parent's conversation, else the thread's.

    Fills `states` with the stored state of the conversations it read or opened, so the
    fold after the insert need not read them again.
    """
    by_thread: dict[str, int | _Pending] = {}
    for state in _conversations_of_threads(session, account, [i.thread_key for i in items]):
        by_thread[state.pop("thread_key")] = state["id"]
        states[state["id"]] = state
    assigned: dict[str, int | _Pending] = {}
    openers: dict[str, InboundItem] = {}
    for item in items:
        parent = item.parent_external_id or ""
        conversation = (
            assigned.get(parent) or by_parent.get(parent) or by_thread.get(item.thread_key)
        )
        if conversation is None:
            conversation = ("new", item.thread_key)
            by_thread[item.thread_key] = conversation
            openers[item.thread_key] = item
        assigned[item.external_id] = conversation
    opened = _open_conversations(session, account, list(openers.values()), contact_ids, now)
    for thread_key, conversation_id in opened.items():
        status = (Status.NEW if openers[thread_key].direction is Direction.INBOUND
                  else Status.RESOLVED)
        states[conversation_id] = {"id": conversation_id, "status": status.value,
                                   "resolved_at": None, **dict.fromkeys(_TIMESTAMPS)}
    return {key: value if isinstance(value, int) else opened[value[1]]
            for key, value in assigned.items()}


def _conversations_of_threads(
    session: Session, account: Account, thread_keys: list[str]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for chunk in _chunks(sorted(set(thread_keys))):
        rows = session.connection().execute(
            _THREADS_OF_ACCOUNT, {"account_id": account.id, "keys": list(chunk)}
        )
        found.extend(dict(row._mapping) for row in rows)
    return found


def _open_conversations(
    session: Session, account: Account, openers: list[InboundItem], contact_ids: dict[str, int],
    now: datetime,
) -> dict[str, int]:
    """thread_key -> new conversation id. A thread our own echo started is not new work."""
    if not openers:
        return {}
    rows = []
    for item in openers:
        inbound = item.direction is Direction.INBOUND
        rows.append({
            "account_id": account.id,
            "channel": item.channel.value,
            "visibility": item.visibility.value,
            "thread_key": item.thread_key,
            "contact_id": contact_ids.get(item.author_id or "") if inbound else None,
            "status": (Status.NEW if inbound else Status.RESOLVED).value,
            "created_at": now,
            "updated_at": now,
        })
    statement = insert(CONVERSATION).returning(CONVERSATION.c.thread_key, CONVERSATION.c.id)
    return {thread_key: int(new_id) for thread_key, new_id in
            session.connection().execute(statement, rows)}


@dataclass(frozen=True)
class _NewMessage:
    id: int
    conversation_id: int
    direction: str
    created_at: datetime
    automated: bool

    @property
    def is_answer(self) -> bool:
        return self.direction == Direction.OUTBOUND.value and not self.automated


def _insert_messages(
    session: Session,
    account: Account,
    items: list[InboundItem],
    conversation_ids: dict[str, int],
    marking: _Marking,
) -> list[_NewMessage]:
    """Insert, skipping rows another process stored meanwhile; what was really added."""
    connection = session.connection()
    created = {item.external_id: item for item in items}
    new: list[_NewMessage] = []
    for chunk in _chunks(items, INSERT_CHUNK):
        rows = [_message_row(account, item, conversation_ids[item.external_id], marking)
                for item in chunk]
        sql, parameters = _driver_insert(connection.dialect, rows)
        for message_id, external_id, conversation_id in connection.exec_driver_sql(
            sql, parameters
        ):
            item = created[external_id]
            new.append(_NewMessage(int(message_id), int(conversation_id),
                                   item.direction.value, item.created_at, marking.automated))
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


def _record_new(report: IngestReport, new_messages: list[_NewMessage]) -> None:
    for message in new_messages:
        report.new_message_ids.append(message.id)
        report.touched_conversation_ids.add(message.conversation_id)
        if message.direction == Direction.INBOUND.value:
            report.new_inbound_ids.append(message.id)


_TIMESTAMPS = ("opened_at", "first_response_at", "last_inbound_at", "last_outbound_at",
               "last_message_at")


def _refresh_conversations(
    session: Session, new_messages: list[_NewMessage], states: dict[int, dict[str, Any]],
    now: datetime,
) -> dict[int, datetime]:
    """Fold the new messages into each conversation's timestamps and status; return the
    conversations this reopened, with the time of the inbound message that reopened each.

    Computed here from the stored values, in two statements per page; a conversation
    whose first inbound moves earlier than an outbound already stored gets its timestamps
    recomputed in SQL afterwards, since its first response may be a message this page did
    not bring.
    """
    by_conversation: dict[int, list[_NewMessage]] = {}
    for message in new_messages:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    unread = sorted(set(by_conversation) - set(states))
    current_states = [states[c] for c in by_conversation if c in states]
    updates, recompute = [], []
    reopened: dict[int, datetime] = {}
    for current in current_states + _current_timestamps(session, unread):
        values, exact = _folded(current, by_conversation[current["id"]], now)
        updates.append(values)
        if current["status"] == Status.RESOLVED.value != values["status"]:
            reopened[current["id"]] = min(m.created_at for m in by_conversation[current["id"]]
                                          if m.direction == Direction.INBOUND.value)
        if not exact:
            recompute.append(current["id"])
    connection = session.connection()
    if updates:
        connection.execute(_CONVERSATION_FOLD, updates)
    for chunk in _chunks(recompute):
        connection.execute(_timestamps_update(chunk, now))
        connection.execute(
            update(CONVERSATION)
            .where(CONVERSATION.c.id.in_(chunk), CONVERSATION.c.status == Status.NEW.value,
                   CONVERSATION.c.first_response_at.is_not(None))
            .values(status=Status.OPEN.value)
        )
    return reopened


def _current_timestamps(session: Session, conversation_ids: list[int]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for chunk in _chunks(conversation_ids):
        rows = session.connection().execute(_CONVERSATION_STATE, {"ids": list(chunk)})
        found.extend(dict(row._mapping) for row in rows)
    return found


_CONVERSATION_STATE = select(
    CONVERSATION.c.id, CONVERSATION.c.status, CONVERSATION.c.resolved_at,
    *(CONVERSATION.c[name] for name in _TIMESTAMPS),
).where(CONVERSATION.c.id.in_(bindparam("ids", expanding=True)))
_THREADS_OF_ACCOUNT = select(
    CONVERSATION.c.thread_key, CONVERSATION.c.id, CONVERSATION.c.status,
    CONVERSATION.c.resolved_at, *(CONVERSATION.c[name] for name in _TIMESTAMPS),
).where(
    CONVERSATION.c.account_id == bindparam("account_id"),
    CONVERSATION.c.thread_key.in_(bindparam("keys", expanding=True)),
)
_CONVERSATION_FOLD = update(CONVERSATION).where(CONVERSATION.c.id == bindparam("conversation_id"))


def _folded(
    current: dict[str, Any], new: list[_NewMessage], now: datetime
) -> tuple[dict[str, Any], bool]:
    """The conversation's new values, and whether its timestamps are exact without SQL.

    A new inbound message reopens a resolved conversation; an answer seen on the platform
    (our echo after the first inbound) moves a new one to open.
    """
    inbound = [m.created_at for m in new if m.direction == Direction.INBOUND.value]
    outbound = [m.created_at for m in new if m.is_answer]
    opened = _earliest(current["opened_at"], *inbound)
    exact = opened == current["opened_at"] or current["last_outbound_at"] is None
    responses = [t for t in outbound if opened is not None and t >= opened]
    first_response = _earliest(current["first_response_at"], *responses)
    status, resolved_at = current["status"], current["resolved_at"]
    if inbound and status == Status.RESOLVED.value:
        status, resolved_at = Status.OPEN.value, None
    elif status == Status.NEW.value and first_response is not None:
        status = Status.OPEN.value
    values = {
        "conversation_id": current["id"],
        "opened_at": opened,
        "first_response_at": first_response,
        "last_inbound_at": _latest(current["last_inbound_at"], *inbound),
        "last_outbound_at": _latest(current["last_outbound_at"], *outbound),
        "last_message_at": _latest(current["last_message_at"], *(m.created_at for m in new)),
        "status": status,
        "resolved_at": resolved_at,
        "updated_at": now,
    }
    return values, exact


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)


def _latest(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


def _timestamps_update(conversation_ids: Sequence[int], now: datetime) -> Any:
    """Every timestamp from the stored messages in one statement (SET sees the old row, so
    first response compares against the recomputed first inbound, not the stored one)."""

    def edge(aggregate: Any, direction: Direction | None) -> Any:
        where = [MESSAGE.c.conversation_id == CONVERSATION.c.id]
        if direction is not None:
            where.append(MESSAGE.c.direction == direction.value)
        if direction is Direction.OUTBOUND:
            where.append(MESSAGE.c.automated.is_(False))
        return select(aggregate(MESSAGE.c.created_at)).where(*where).scalar_subquery()

    inbound = MESSAGE.alias("inbound")
    first_inbound = (
        select(func.min(inbound.c.created_at))
        .where(inbound.c.conversation_id == CONVERSATION.c.id,
               inbound.c.direction == Direction.INBOUND.value)
        .scalar_subquery()
    )
    first_response = (
        select(func.min(MESSAGE.c.created_at))
        .where(MESSAGE.c.conversation_id == CONVERSATION.c.id,
               MESSAGE.c.direction == Direction.OUTBOUND.value,
               MESSAGE.c.automated.is_(False),
               MESSAGE.c.created_at >= first_inbound)
        .scalar_subquery()
    )
    return (
        update(CONVERSATION)
        .where(CONVERSATION.c.id.in_(conversation_ids))
        .values(
            opened_at=edge(func.min, Direction.INBOUND),
            first_response_at=first_response,
            last_inbound_at=edge(func.max, Direction.INBOUND),
            last_outbound_at=edge(func.max, Direction.OUTBOUND),
            last_message_at=edge(func.max, None),
            updated_at=now,
        )
    )


def _quarantine(session: Session, account: Account, page: PullPage, now: datetime) -> int:
    """Keep the page's set-aside items, one row per item (`quarantine.fingerprint`): an item
    set aside again counts one more attempt, with its newest body and reason, and waits
    again. One already stored as a message (a whole copy arrived) adds nothing, and a
    waiting row whose item this page brings whole is resolved."""
    if page.items:
        session.connection().execute(
            _RESOLVE_ARRIVED, {"b_account": account.id, "b_stream": page.stream, "b_now": now,
                               "b_ids": sorted({item.external_id for item in page.items})})
    if not page.quarantined:
        return 0
    stored = {external_id for (external_id,) in _existing(
        session, MESSAGE.c.external_id, account.platform,
        sorted({e.external_id for e in page.quarantined if e.external_id}))}
    rows: dict[str, dict[str, Any]] = {}
    for entry in page.quarantined:
        if entry.external_id in stored:
            continue
        key = fingerprint(entry.external_id, dict(entry.raw))
        rows[key] = {"account_id": account.id, "stream": page.stream,
                     "external_id": entry.external_id, "fingerprint": key,
                     "reason": entry.reason, "raw": dict(entry.raw), "received_at": now,
                     "last_attempt_at": now, "attempts": 1, "resolved_at": None}
    if rows:
        session.connection().execute(_quarantine_upsert(_dialect(session)), list(rows.values()))
    return len(rows)


_RESOLVE_ARRIVED = (
    update(QUARANTINE)
    .where(QUARANTINE.c.resolved_at.is_(None), QUARANTINE.c.account_id == bindparam("b_account"),
           QUARANTINE.c.stream == bindparam("b_stream"),
           QUARANTINE.c.external_id.in_(bindparam("b_ids", expanding=True)))
    .values(resolved_at=bindparam("b_now"))
)


@functools.cache
def _quarantine_upsert(dialect_name: str) -> Any:
    statement = DIALECT_INSERT[dialect_name](QUARANTINE)
    return statement.on_conflict_do_update(
        index_elements=["account_id", "stream", "fingerprint"],
        set_={"reason": statement.excluded.reason, "raw": statement.excluded.raw,
              "external_id": statement.excluded.external_id,
              "last_attempt_at": statement.excluded.last_attempt_at,
              "attempts": QUARANTINE.c.attempts + 1, "resolved_at": None},
    )


def _advance_cursor(session: Session, account: Account, page: PullPage) -> None:
    """Write the cursor only when the page carries one: a walk's middle pages do not."""
    if page.cursor is None:
        return
    session.connection().execute(
        _cursor_upsert(_dialect(session)),
        {"account_id": account.id, "stream": page.stream, "cursor": page.cursor},
    )


@functools.cache
def _cursor_upsert(dialect_name: str) -> Any:
    statement = DIALECT_INSERT[dialect_name](CURSOR).values(
        account_id=bindparam("account_id"), stream=bindparam("stream"),
        cursor=bindparam("cursor"),
    )
    return statement.on_conflict_do_update(
        index_elements=["account_id", "stream"], set_={"cursor": statement.excluded.cursor}
    )


def _insert_ignore(session: Session, table: Table, conflict_columns: list[str]) -> Any:
    return DIALECT_INSERT[_dialect(session)](table).on_conflict_do_nothing(
        index_elements=conflict_columns
    )


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name
