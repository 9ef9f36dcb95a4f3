"""The read side: summaries and lists for the demo, the CLI and (later) the TUI. No writes."""

from __future__ import annotations

import heapq
import itertools
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Integer, column, func, literal, literal_column, or_, text, tuple_
from sqlmodel import Session, col, select

from socialdesk.models import Account, Contact, Conversation, Handle, Message, Note


@dataclass(frozen=True)
class ConversationRow:
    id: int
    account: str
    channel: str
    status: str
    customer: str | None
    last_message_at: datetime | None
    preview: str
    has_pii: bool


def counts_by_channel_and_status(session: Session) -> dict[tuple[str, str], int]:
    rows = session.exec(
        select(Conversation.channel, Conversation.status, func.count()).group_by(
            col(Conversation.channel), col(Conversation.status)
        )
    )
    return {(channel, status): int(count) for channel, status, count in rows}


def message_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Message)).one())


def newest_conversations(session: Session, limit: int = 20) -> list[ConversationRow]:
    """Newest activity first, with the last message's text as the preview."""
    conversations = session.exec(
        select(Conversation, Account.name, Contact.display_name)
        .join(Account, col(Account.id) == Conversation.account_id)
        .join(Contact, col(Contact.id) == Conversation.contact_id, isouter=True)
        .order_by(col(Conversation.last_message_at).desc(), col(Conversation.id).desc())
        .limit(limit)
    ).all()
    return [_row(session, conversation, account, customer)
            for conversation, account, customer in conversations]


def _row(
    session: Session, conversation: Conversation, account: str, customer: str | None
) -> ConversationRow:
    last = session.exec(
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .limit(1)
    ).first()
    any_pii = session.exec(
        select(func.count())
        .select_from(Message)
        .where(Message.conversation_id == conversation.id, col(Message.has_pii))
    ).one()
    return ConversationRow(
        id=conversation.id or 0,
        account=account,
        channel=conversation.channel,
        status=conversation.status,
        customer=customer,
        last_message_at=conversation.last_message_at,
        preview=last.text if last else "",
        has_pii=bool(any_pii),
    )


# ---------------------------------------------------------------------------------------
# The TUI's read side. Functions take the engine, so the screens import no SQL library.
# The queue is paged by keyset on (sort column, id): never OFFSET, never the whole table.

SEARCH_MATCH_LIMIT = 2000
"""Search looks at the newest this-many matching messages: newest-first costs ~0.3 ms at
1 M rows, ranking every hit of a common word took seconds (PLATFORMS.md, FTS5)."""

SORT_NEWEST = "newest"
SORT_WAITING = "waiting"
WAITING_STATUSES = ("new", "open")
"""Waiting-time order lists what is still to be answered; resolved ones wait for nothing."""


@dataclass(frozen=True)
class InboxFilter:
    """What the queue shows; every field maps to one indexed condition."""

    status: str | None = None
    channel: str | None = None
    account: str | None = None
    assignee: str | None = None
    has_pii: bool = False
    search: str = ""
    sort: str = SORT_NEWEST


@dataclass(frozen=True)
class InboxKey:
    """Where a page ended: the sort column's value and the id that breaks ties."""

    at: datetime
    id: int


@dataclass(frozen=True)
class InboxRow:
    id: int
    status: str
    platform: str
    channel: str
    visibility: str
    account: str
    customer: str | None
    preview: str
    has_pii: bool
    assignee: str | None
    last_message_at: datetime | None
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None

    def key(self, sort: str) -> InboxKey:
        at = self.last_inbound_at if sort == SORT_WAITING else self.last_message_at
        assert at is not None  # the page query keeps only rows that have the sort column
        return InboxKey(at, self.id)


def inbox_page(
    engine: Engine, inbox_filter: InboxFilter, after: InboxKey | None, limit: int
) -> list[InboxRow]:
    """The next `limit` conversations after `after` in the filter's order."""
    statuses: tuple[str | None, ...] = (inbox_filter.status,)
    if inbox_filter.status is None and inbox_filter.sort == SORT_WAITING:
        statuses = WAITING_STATUSES
    with Session(engine) as session:
        search_ids = _search_message_ids(session, inbox_filter.search)
        pages = [
            _page_for_status(session, inbox_filter, status, search_ids, after, limit)
            for status in statuses
        ]
    if len(pages) == 1:
        return pages[0]
    # One indexed query per status, merged here: SQLite cannot walk `status IN (…)` in
    # `(status, last_inbound_at)` order without sorting every match.
    merged = heapq.merge(*pages, key=lambda row: (row.last_inbound_at, row.id))
    return list(itertools.islice(merged, limit))


def _page_for_status(
    session: Session,
    inbox_filter: InboxFilter,
    status: str | None,
    search_ids: Any,
    after: InboxKey | None,
    limit: int,
) -> list[InboxRow]:
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    waiting = inbox_filter.sort == SORT_WAITING
    sort_column = conversation.last_inbound_at if waiting else conversation.last_message_at
    statement = _inbox_select().where(sort_column.is_not(None))
    statement = _filtered(statement, inbox_filter, status, search_ids)
    if waiting:
        if after is not None:
            statement = statement.where(sort_column >= after.at,
                                        tuple_(sort_column, conversation.id)
                                        > tuple_(_bound(after.at), after.id))
        statement = statement.order_by(sort_column.asc(), conversation.id.asc())
    else:
        if after is not None:
            statement = statement.where(sort_column <= after.at,
                                        tuple_(sort_column, conversation.id)
                                        < tuple_(_bound(after.at), after.id))
        statement = statement.order_by(sort_column.desc(), conversation.id.desc())
    return [InboxRow(*row) for row in session.exec(statement.limit(limit)).all()]


def _bound(moment: datetime) -> Any:
    """A keyset bound typed like the column: SQLite compares the stored text form."""
    return literal(moment, type_=Conversation.__table__.c.last_message_at.type)  # type: ignore[attr-defined]


def _inbox_select() -> Any:
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    message = Message.__table__.c  # type: ignore[attr-defined]
    last_text = (  # what the customer said last: the preview is theirs, not our reply
        select(message.text)
        .where(message.conversation_id == conversation.id, message.direction == "inbound")
        .order_by(message.created_at.desc(), message.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    any_pii = (
        select(message.id)
        .where(message.conversation_id == conversation.id, message.has_pii.is_(True))
        .exists()
    )
    return (
        select(
            conversation.id, conversation.status, Account.__table__.c.platform,  # type: ignore[attr-defined]
            conversation.channel, conversation.visibility, Account.__table__.c.name,  # type: ignore[attr-defined]
            Contact.__table__.c.display_name,  # type: ignore[attr-defined]
            func.coalesce(last_text, ""), any_pii, conversation.assignee,
            conversation.last_message_at, conversation.last_inbound_at,
            conversation.last_outbound_at,
        )
        .select_from(Conversation.__table__)
        .join(Account.__table__, Account.__table__.c.id == conversation.account_id)  # type: ignore[attr-defined]
        .join(Contact.__table__, Contact.__table__.c.id == conversation.contact_id,  # type: ignore[attr-defined]
              isouter=True)
    )


def _filtered(statement: Any, inbox_filter: InboxFilter, status: str | None,
              search_ids: Any) -> Any:
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    message = Message.__table__.c  # type: ignore[attr-defined]
    if status is not None:
        statement = statement.where(conversation.status == status)
    if inbox_filter.channel is not None:
        statement = statement.where(conversation.channel == inbox_filter.channel)
    if inbox_filter.account is not None:
        statement = statement.where(Account.__table__.c.name == inbox_filter.account)  # type: ignore[attr-defined]
    if inbox_filter.assignee is not None:
        statement = statement.where(conversation.assignee == inbox_filter.assignee)
    if inbox_filter.has_pii:
        statement = statement.where(
            select(message.id)
            .where(message.conversation_id == conversation.id, message.has_pii.is_(True))
            .exists()
        )
    if search_ids is not None:
        statement = statement.where(
            conversation.id.in_(select(message.conversation_id).where(message.id.in_(search_ids)))
        )
    return statement


def full_text_query(words: str) -> str:
    """User words as an FTS5 query: each word quoted (no operator injection), the last one
    a prefix so results follow typing."""
    tokens = re.findall(r"\w+", words)
    if not tokens:
        return ""
    quoted = [f'"{token}"' for token in tokens]
    quoted[-1] += "*"
    return " ".join(quoted)


def _search_message_ids(session: Session, words: str) -> Any:
    """A subquery of the newest matching message ids, or None when there is no search."""
    if not words.strip():
        return None
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        query = full_text_query(words)
        if not query:
            return select(literal(None))  # nothing searchable: no match
        return text(
            "SELECT rowid FROM message_fts WHERE message_fts MATCH :fts_query "
            "ORDER BY rowid DESC LIMIT :fts_limit"
        ).bindparams(fts_query=query, fts_limit=SEARCH_MATCH_LIMIT).columns(
            column("rowid", Integer)
        )
    tokens = re.findall(r"\w+", words)
    if not tokens:
        return select(literal(None))
    # Word characters only, so the tsquery has no operator but ours; the last word is a prefix.
    prefix_query = " & ".join(tokens) + ":*"
    message = Message.__table__.c  # type: ignore[attr-defined]
    vector = func.to_tsvector(literal_column("'simple'"), message.text)
    return (
        select(message.id)
        .where(vector.op("@@")(func.to_tsquery(literal_column("'simple'"), prefix_query)))
        .order_by(message.id.desc())
        .limit(SEARCH_MATCH_LIMIT)
    )


def latest_change(engine: Engine) -> datetime | None:
    """The newest `conversation.updated_at`: the TUI polls it to learn that something changed."""
    with Session(engine) as session:
        return session.exec(select(func.max(Conversation.updated_at))).one()


@dataclass(frozen=True)
class InboxChoices:
    """The values the queue filters cycle through."""

    channels: list[tuple[str, str]]
    accounts: list[str]


def inbox_choices(engine: Engine) -> InboxChoices:
    with Session(engine) as session:
        accounts = session.exec(select(Account.name, Account.platform).order_by(Account.name)).all()
    channels = sorted({(platform, channel) for _, platform in accounts
                       for channel in CHANNELS_BY_PLATFORM.get(platform, ())})
    return InboxChoices(channels=channels, accounts=[name for name, _ in accounts])


CHANNELS_BY_PLATFORM = {
    "x": ("mention", "dm"),
    "facebook": ("comment", "visitor_post", "messenger"),
}


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    direction: str
    visibility: str
    channel: str
    author_handle: str | None
    author_name: str | None
    text: str
    created_at: datetime
    has_pii: bool
    pii_types: str | None


@dataclass(frozen=True)
class ConversationView:
    id: int
    account: str
    platform: str
    channel: str
    visibility: str
    status: str
    assignee: str | None
    contact_id: int | None
    customer: str | None
    opened_at: datetime | None
    last_inbound_at: datetime | None
    messages: list[ThreadMessage]


def conversation_view(engine: Engine, conversation_id: int) -> ConversationView | None:
    """One conversation with its whole thread, oldest first."""
    with Session(engine) as session:
        found = session.exec(
            select(Conversation, Account, Contact)
            .join(Account, col(Account.id) == Conversation.account_id)
            .join(Contact, col(Contact.id) == Conversation.contact_id, isouter=True)
            .where(Conversation.id == conversation_id)
        ).first()
        if found is None:
            return None
        conversation, account, contact = found
        messages = session.exec(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(col(Message.created_at), col(Message.id))
        ).all()
    return ConversationView(
        id=conversation_id, account=account.name, platform=account.platform,
        channel=conversation.channel, visibility=conversation.visibility,
        status=conversation.status, assignee=conversation.assignee,
        contact_id=conversation.contact_id, customer=contact.display_name if contact else None,
        opened_at=conversation.opened_at, last_inbound_at=conversation.last_inbound_at,
        messages=[_thread_message(message) for message in messages],
    )


def _thread_message(message: Message) -> ThreadMessage:
    return ThreadMessage(
        id=message.id or 0, direction=message.direction, visibility=message.visibility,
        channel=message.channel, author_handle=message.author_handle,
        author_name=message.author_name, text=message.text, created_at=message.created_at,
        has_pii=message.has_pii, pii_types=message.pii_types,
    )


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
    status: str
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
    exposed_types: list[str]


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
        conversations = session.exec(
            select(Conversation.id, Account.platform, Conversation.channel, Conversation.status,
                   Conversation.last_message_at)
            .join(Account, col(Account.id) == Conversation.account_id)
            .where(Conversation.contact_id == contact_id)
            .order_by(col(Conversation.last_message_at).desc())
            .limit(CARD_CONVERSATIONS)
        ).all()
        return CustomerCard(
            contact_id=contact_id,
            display_name=contact.display_name,
            handles=[CardHandle(h.platform, h.username, h.display_name) for h in handles],
            conversations=[CardConversation(*row) for row in conversations],
            notes=_card_notes(session, contact_id),
            exposed_types=_exposed_types(session, contact_id),
        )


def _card_notes(session: Session, contact_id: int) -> list[CardNote]:
    conversation_ids = select(Conversation.id).where(Conversation.contact_id == contact_id)
    notes = session.exec(
        select(Note)
        .where(or_(Note.contact_id == contact_id, col(Note.conversation_id).in_(conversation_ids)))
        .order_by(col(Note.created_at).desc(), col(Note.id).desc())
    ).all()
    return [CardNote(n.initials, n.text, n.created_at, n.conversation_id) for n in notes]


def _exposed_types(session: Session, contact_id: int) -> list[str]:
    """Which kinds of personal data this customer has shown us, never the values."""
    conversation_ids = select(Conversation.id).where(Conversation.contact_id == contact_id)
    found = session.exec(
        select(Message.pii_types).distinct()
        .where(col(Message.conversation_id).in_(conversation_ids), col(Message.has_pii))
    ).all()
    return sorted({kind for types in found if types for kind in types.split(",") if kind})


@dataclass(frozen=True)
class DashboardFigures:
    days: list[date]
    volumes: dict[str, list[int]]
    """Inbound messages per day, per channel, oldest day first."""
    first_response_median: timedelta | None
    first_response_p90: timedelta | None
    answered: int


def dashboard_figures(engine: Engine, now: datetime, days: int = 14) -> DashboardFigures:
    """Volumes per channel per day and first-response times of conversations opened lately."""
    first_day = (now - timedelta(days=days - 1)).date()
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    day_list = [first_day + timedelta(days=offset) for offset in range(days)]
    with Session(engine) as session:
        arrivals = session.exec(
            select(Message.channel, Message.created_at)
            .where(col(Message.created_at) >= start, Message.direction == "inbound")
        ).all()
        responses = session.exec(
            select(Conversation.opened_at, Conversation.first_response_at)
            .where(col(Conversation.opened_at) >= start,
                   col(Conversation.first_response_at).is_not(None))
        ).all()
    volumes: dict[str, list[int]] = {}
    for channel, created_at in arrivals:
        index = (created_at.date() - first_day).days
        if 0 <= index < days:
            volumes.setdefault(channel, [0] * days)[index] += 1
    waits = sorted(answered - opened for opened, answered in responses if opened and answered)
    return DashboardFigures(
        days=day_list, volumes=dict(sorted(volumes.items())),
        first_response_median=_quantile(waits, 0.5), first_response_p90=_quantile(waits, 0.9),
        answered=len(waits),
    )


def _quantile(values: list[timedelta], fraction: float) -> timedelta | None:
    """Nearest-rank quantile: a real measured wait, never an interpolated one."""
    if not values:
        return None
    rank = max(1, math.ceil(fraction * len(values)))
    return values[rank - 1]
