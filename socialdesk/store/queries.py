"""The read side: summaries and lists for the demo, the CLI and (later) the TUI. No writes."""

from __future__ import annotations

import heapq
import itertools
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Engine,
    Integer,
    and_,
    column,
    func,
    literal,
    literal_column,
    or_,
    text,
    tuple_,
)
from sqlmodel import Session, col, select

from socialdesk.store.models import (
    Account,
    Contact,
    Conversation,
    Handle,
    Health,
    Message,
    Note,
    OutboxAction,
    PrivacyExposure,
)
from socialdesk.store.sqltime import seconds_between, utc_day
from socialdesk.store.textfold import ACCENTED, UNACCENTED, fold_accents


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
UNASSIGNED = "-"
"""`InboxFilter.assignee` for conversations nobody has: never real initials, which are
letters, digits and dots (`[operator] initials`, the desk's "assign to")."""
WAITING_STATUSES = ("new", "open")
"""Waiting-time order lists what is still to be answered; resolved ones wait for nothing."""


@dataclass(frozen=True)
class InboxFilter:
    """What the queue shows; every field maps to one indexed condition."""

    status: str | None = None
    channel: str | None = None
    account: str | None = None
    assignee: str | None = None
    """Initials, `UNASSIGNED`, or None for everyone's."""
    has_pii: bool = False
    search: str = ""
    sort: str = SORT_NEWEST
    overdue: bool = False
    """Only conversations past their first-response due time (`overdue_clause`)."""


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
    sla_started_at: datetime | None = None
    first_response_due_at: datetime | None = None

    def key(self, sort: str) -> InboxKey:
        at = self.last_inbound_at if sort == SORT_WAITING else self.last_message_at
        assert at is not None  # the page query keeps only rows that have the sort column
        return InboxKey(at, self.id)


def overdue_clause(now: datetime) -> Any:
    """Past the first-response due time with no answer since the SLA clock started.

    The same rule as `socialdesk.service.sla.overdue_conversations` (a test holds them together):
    unresolved, `first_response_due_at < now`, and no outbound message, or the last one
    before `sla_started_at` (an answer to an earlier round does not count).
    """
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    return and_(
        conversation.status != "resolved",
        conversation.first_response_due_at < now,
        or_(conversation.last_outbound_at.is_(None),
            and_(conversation.sla_started_at.is_not(None),
                 conversation.last_outbound_at < conversation.sla_started_at)),
    )


def _statuses(inbox_filter: InboxFilter) -> tuple[str | None, ...]:
    """One query per status: the waiting order and the overdue filter see only unresolved
    ones, and `status = ?` lets SQLite use the status indexes instead of reading them all."""
    if inbox_filter.status is None and (inbox_filter.sort == SORT_WAITING
                                        or inbox_filter.overdue):
        return WAITING_STATUSES
    return (inbox_filter.status,)


def inbox_page(
    engine: Engine, inbox_filter: InboxFilter, after: InboxKey | None, limit: int,
    *, now: datetime | None = None, reverse: bool = False,
) -> list[InboxRow]:
    """The next `limit` conversations after `after` in the filter's order.

    `reverse` walks the same order from its end (the queue's End key); `now` is the time
    the overdue filter compares due times with.
    """
    statuses = _statuses(inbox_filter)
    with Session(engine) as session:
        search_ids = _search_message_ids(session, inbox_filter.search)
        pages = [
            _page_for_status(session, inbox_filter, status, search_ids, after, limit,
                             now, reverse)
            for status in statuses
        ]
    if len(pages) == 1:
        return pages[0]
    # One indexed query per status, merged here: SQLite cannot walk `status IN (…)` in
    # `(status, last_inbound_at)` order without sorting every match.
    sort = inbox_filter.sort
    merged = heapq.merge(*pages, key=lambda row: (row.key(sort).at, row.id),
                         reverse=reverse != (sort != SORT_WAITING))
    return list(itertools.islice(merged, limit))


def inbox_count(engine: Engine, inbox_filter: InboxFilter, now: datetime | None = None) -> int:
    """How many conversations the filter shows: one count, so End can jump to the last row."""
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    waiting = inbox_filter.sort == SORT_WAITING
    sort_column = conversation.last_inbound_at if waiting else conversation.last_message_at
    total = 0
    with Session(engine) as session:
        search_ids = _search_message_ids(session, inbox_filter.search)
        for status in _statuses(inbox_filter):
            statement = select(func.count()).select_from(Conversation.__table__)
            if inbox_filter.account is not None:  # the join costs 10x on a plain count
                statement = statement.join(
                    Account.__table__, Account.__table__.c.id == conversation.account_id)  # type: ignore[attr-defined]
            statement = statement.where(sort_column.is_not(None))
            statement = _filtered(statement, inbox_filter, status, search_ids, now)
            total += int(session.exec(statement).one())
    return total


def _page_for_status(
    session: Session,
    inbox_filter: InboxFilter,
    status: str | None,
    search_ids: Any,
    after: InboxKey | None,
    limit: int,
    now: datetime | None = None,
    reverse: bool = False,
) -> list[InboxRow]:
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    waiting = inbox_filter.sort == SORT_WAITING
    sort_column = conversation.last_inbound_at if waiting else conversation.last_message_at
    statement = _inbox_select().where(sort_column.is_not(None))
    statement = _filtered(statement, inbox_filter, status, search_ids, now)
    if waiting != reverse:  # ascending: waiting order, or newest-first walked from its end
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


def _last_customer_text() -> Any:
    """What the customer said last in the outer query's conversation ("" for nothing): a
    preview is theirs, not our reply."""
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    message = Message.__table__.c  # type: ignore[attr-defined]
    return func.coalesce(
        select(message.text)
        .where(message.conversation_id == conversation.id, message.direction == "inbound")
        .order_by(message.created_at.desc(), message.id.desc())
        .limit(1)
        .scalar_subquery(), "")


def _inbox_select() -> Any:
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    message = Message.__table__.c  # type: ignore[attr-defined]
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
            _last_customer_text(), any_pii, conversation.assignee,
            conversation.last_message_at, conversation.last_inbound_at,
            conversation.last_outbound_at, conversation.sla_started_at,
            conversation.first_response_due_at,
        )
        .select_from(Conversation.__table__)
        .join(Account.__table__, Account.__table__.c.id == conversation.account_id)  # type: ignore[attr-defined]
        .join(Contact.__table__, Contact.__table__.c.id == conversation.contact_id,  # type: ignore[attr-defined]
              isouter=True)
    )


def _filtered(statement: Any, inbox_filter: InboxFilter, status: str | None,
              search_ids: Any, now: datetime | None = None) -> Any:
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    message = Message.__table__.c  # type: ignore[attr-defined]
    if status is not None:
        statement = statement.where(conversation.status == status)
    if inbox_filter.channel is not None:
        statement = statement.where(conversation.channel == inbox_filter.channel)
    if inbox_filter.account is not None:
        statement = statement.where(Account.__table__.c.name == inbox_filter.account)  # type: ignore[attr-defined]
    if inbox_filter.assignee == UNASSIGNED:
        statement = statement.where(conversation.assignee.is_(None))
    elif inbox_filter.assignee is not None:
        statement = statement.where(conversation.assignee == inbox_filter.assignee)
    if inbox_filter.overdue:
        if now is None:
            raise ValueError("the overdue filter needs the time to compare due times with")
        statement = statement.where(overdue_clause(now))
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


def search_hits_limit(engine: Engine, words: str) -> bool:
    """Whether more messages match `words` than the queue looks at (`SEARCH_MATCH_LIMIT`):
    its conversations then come from the newest matches only, and the count is not a total."""
    with Session(engine) as session:
        ids = _search_message_ids(session, words, limit=SEARCH_MATCH_LIMIT + 1)
        if ids is None:
            return False
        matches = session.exec(select(func.count()).select_from(ids.subquery())).one()
    return int(matches) > SEARCH_MATCH_LIMIT


def _search_message_ids(session: Session, words: str, limit: int | None = None) -> Any:
    """A subquery of the newest `limit` (default `SEARCH_MATCH_LIMIT`) matching message
    ids, or None when there is no search."""
    if not words.strip():
        return None
    limit = SEARCH_MATCH_LIMIT if limit is None else limit
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        query = full_text_query(words)
        if not query:
            return select(literal(None))  # nothing searchable: no match
        return text(
            "SELECT rowid FROM message_fts WHERE message_fts MATCH :fts_query "
            "ORDER BY rowid DESC LIMIT :fts_limit"
        ).bindparams(fts_query=query, fts_limit=limit).columns(
            column("rowid", Integer)
        )
    tokens = re.findall(r"\w+", fold_accents(words))
    if not tokens:
        return select(literal(None))
    # Word characters only, so the tsquery has no operator but ours; the last word is a prefix.
    prefix_query = " & ".join(tokens) + ":*"
    message = Message.__table__.c  # type: ignore[attr-defined]
    # The index's own expression (migration 0007), with constants, not bound parameters:
    # PostgreSQL uses an expression index only for the very same expression.
    folded = func.translate(message.text, literal_column(f"'{ACCENTED}'"),
                            literal_column(f"'{UNACCENTED}'"))
    vector = func.to_tsvector(literal_column("'simple'"), folded)
    return (
        select(message.id)
        .where(vector.op("@@")(func.to_tsquery(literal_column("'simple'"), prefix_query)))
        .order_by(message.id.desc())
        .limit(limit)
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
    assignees: list[str] = field(default_factory=list)
    """Initials conversations are assigned to now (`known_assignees`)."""


def inbox_choices(engine: Engine) -> InboxChoices:
    with Session(engine) as session:
        accounts = session.exec(select(Account.name, Account.platform).order_by(Account.name)).all()
    channels = sorted({(platform, channel) for _, platform in accounts
                       for channel in CHANNELS_BY_PLATFORM.get(platform, ())})
    return InboxChoices(channels=channels, accounts=[name for name, _ in accounts],
                        assignees=known_assignees(engine))


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
    moderation: Moderation | None = None
    """The newest hide/unhide asked for this message, with its outbox state."""


@dataclass(frozen=True)
class Moderation:
    """Whether an operator asked to hide (or unhide) a message, and how far that got."""

    kind: str
    """`hide` or `unhide`."""
    state: str
    """The outbox row's state: pending, sending, sent, failed or unknown."""

    @property
    def hidden(self) -> bool:
        """Hidden on the platform, or on its way there (the next press unhides)."""
        return self.kind == "hide" and self.state != "failed"


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
    first_response_due_at: datetime | None = None
    sla_started_at: datetime | None = None
    last_outbound_at: datetime | None = None


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
        moderation = _moderation(session, conversation_id)
    return ConversationView(
        id=conversation_id, account=account.name, platform=account.platform,
        channel=conversation.channel, visibility=conversation.visibility,
        status=conversation.status, assignee=conversation.assignee,
        contact_id=conversation.contact_id, customer=contact.display_name if contact else None,
        opened_at=conversation.opened_at, last_inbound_at=conversation.last_inbound_at,
        messages=[_thread_message(message, moderation.get(message.id or 0))
                  for message in messages],
        first_response_due_at=conversation.first_response_due_at,
        sla_started_at=conversation.sla_started_at,
        last_outbound_at=conversation.last_outbound_at,
    )


def _moderation(session: Session, conversation_id: int) -> dict[int, Moderation]:
    """The newest hide/unhide outbox row of each message of the conversation."""
    rows = session.exec(
        select(OutboxAction.target_message_id, OutboxAction.kind, OutboxAction.state)
        .where(OutboxAction.conversation_id == conversation_id,
               col(OutboxAction.kind).in_(("hide", "unhide")),
               col(OutboxAction.target_message_id).is_not(None))
        .order_by(col(OutboxAction.id))
    ).all()
    return {message_id: Moderation(kind, state) for message_id, kind, state in rows
            if message_id is not None}


def _thread_message(message: Message, moderation: Moderation | None = None) -> ThreadMessage:
    return ThreadMessage(
        id=message.id or 0, direction=message.direction, visibility=message.visibility,
        channel=message.channel, author_handle=message.author_handle,
        author_name=message.author_name, text=message.text, created_at=message.created_at,
        has_pii=message.has_pii, pii_types=message.pii_types, moderation=moderation,
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
            verified_at=contact.verified_at, verified_by=contact.verified_by,
            verified_method=contact.verified_method,
            public_exposures=_public_exposures(session, contact_id),
        )


def customer_previews(engine: Engine, conversation_ids: list[int]) -> dict[int, str]:
    """What the customer said last in each conversation, as the queue's preview (unmasked:
    the caller masks it); "" when they have said nothing there."""
    if not conversation_ids:
        return {}
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    with Session(engine) as session:
        rows = session.exec(
            select(conversation.id, _last_customer_text())
            .where(conversation.id.in_(conversation_ids))
        ).all()
    return dict(rows)


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
        contact, handle = Contact.__table__.c, Handle.__table__.c  # type: ignore[attr-defined]
        matching = [or_(func.lower(contact.display_name).contains(token, autoescape=True),
                        func.lower(handle.username).contains(token, autoescape=True),
                        func.lower(handle.display_name).contains(token, autoescape=True))
                    for token in tokens]
        found = session.exec(
            select(contact.id).distinct()
            .select_from(Contact.__table__)
            .join(Handle.__table__, handle.contact_id == contact.id, isouter=True)
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


def known_assignees(engine: Engine) -> list[str]:
    """Initials conversations are assigned to now, for the "assign to…" choices."""
    with Session(engine) as session:
        rows = session.exec(
            select(Conversation.assignee).distinct()
            .where(col(Conversation.assignee).is_not(None)).order_by(col(Conversation.assignee))
        ).all()
    return [row for row in rows if row]


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
    overdue: int = 0
    """Unresolved conversations past their first-response due time now (`overdue_clause`)."""


def dashboard_figures(engine: Engine, now: datetime, days: int = 14) -> DashboardFigures:
    """Volumes per channel per day and first-response times of conversations opened lately.

    Counted and measured by the database: reading every message of two weeks into Python
    took a second at a million messages, and the dashboard opens on a keystroke."""
    first_day = (now - timedelta(days=days - 1)).date()
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    day_list = [first_day + timedelta(days=offset) for offset in range(days)]
    message = Message.__table__.c  # type: ignore[attr-defined]
    conversation = Conversation.__table__.c  # type: ignore[attr-defined]
    dialect = engine.dialect.name
    day = utc_day(message.created_at, dialect)
    with Session(engine) as session:
        arrivals = session.exec(
            select(message.channel, day, func.count())
            .where(message.created_at >= start, message.direction == "inbound")
            .group_by(message.channel, day)
        ).all()
        waits = sorted(float(seconds) for seconds in session.exec(  # PostgreSQL: Decimal
            select(seconds_between(conversation.opened_at, conversation.first_response_at,
                                   dialect))
            .where(conversation.opened_at >= start, conversation.first_response_at.is_not(None))
        ).all())
        overdue = int(session.exec(
            select(func.count()).select_from(Conversation.__table__).where(overdue_clause(now))
        ).one())
    volumes: dict[str, list[int]] = {}
    for channel, day_text, count in arrivals:
        index = (date.fromisoformat(day_text) - first_day).days
        if 0 <= index < days:
            volumes.setdefault(channel, [0] * days)[index] += count
    return DashboardFigures(
        days=day_list, volumes=dict(sorted(volumes.items())),
        first_response_median=_span(_quantile(waits, 0.5)),
        first_response_p90=_span(_quantile(waits, 0.9)),
        answered=len(waits), overdue=overdue,
    )


def _span(seconds: float | None) -> timedelta | None:
    """A measured wait, to the millisecond (julianday arithmetic is not exact below that)."""
    return None if seconds is None else timedelta(seconds=round(seconds, 3))


def _quantile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank quantile: a real measured wait, never an interpolated one."""
    if not values:
        return None
    rank = max(1, math.ceil(fraction * len(values)))
    return values[rank - 1]


def unhealthy_accounts(engine: Engine) -> list[tuple[str, str]]:
    """Accounts whose last sync needs a human (an expired token), with what to do."""
    account = Account.__table__.c  # type: ignore[attr-defined]
    with Session(engine) as session:
        rows = session.exec(
            select(account.name, account.health_reason)
            .where(account.health == Health.UNHEALTHY.value).order_by(account.name)
        ).all()
    return [(name, reason or "the last sync failed") for name, reason in rows]
