"""The queue: filtered, searched, keyset-paged conversation rows and the filters' choices. No
writes."""

from __future__ import annotations

import heapq
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
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
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from connectors.base import Direction
from socialdesk.platforms.registry import channels_of
from socialdesk.store.models import Account, Conversation, Status
from socialdesk.store.tables import ACCOUNT, CONTACT, CONVERSATION, MESSAGE
from socialdesk.store.textfold import fold_accents, folded_text

SEARCH_MATCH_LIMIT = 2000
"""Search looks at the newest this-many matching messages: newest-first costs ~0.3 ms at
1 M rows, ranking every hit of a common word took seconds (PLATFORMS.md, FTS5)."""


SORT_NEWEST = "newest"


SORT_WAITING = "waiting"


UNASSIGNED = "-"
"""`InboxFilter.assignee` for conversations nobody has: never real initials, which are
letters, digits and dots (`[operator] initials`, the desk's "assign to")."""


WAITING_STATUSES = (Status.NEW, Status.OPEN)
"""Waiting-time order lists what is still to be answered; resolved ones wait for nothing."""


@dataclass(frozen=True)
class InboxFilter:
    """What the queue shows; every field maps to one indexed condition."""

    status: Status | None = None
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
    status: Status
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
    conversation = CONVERSATION.c
    return and_(
        conversation.status != Status.RESOLVED,
        conversation.first_response_due_at < now,
        or_(conversation.last_outbound_at.is_(None),
            and_(conversation.sla_started_at.is_not(None),
                 conversation.last_outbound_at < conversation.sla_started_at)),
    )


def _statuses(inbox_filter: InboxFilter) -> tuple[Status | None, ...]:
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
    conversation = CONVERSATION.c
    waiting = inbox_filter.sort == SORT_WAITING
    sort_column = conversation.last_inbound_at if waiting else conversation.last_message_at
    total = 0
    with Session(engine) as session:
        search_ids = _search_message_ids(session, inbox_filter.search)
        for status in _statuses(inbox_filter):
            statement = select(func.count()).select_from(CONVERSATION)
            if inbox_filter.account is not None:  # the join costs 10x on a plain count
                statement = statement.join(
                    ACCOUNT, ACCOUNT.c.id == conversation.account_id)
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
    conversation = CONVERSATION.c
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
    return literal(moment, type_=CONVERSATION.c.last_message_at.type)


def last_customer_text() -> Any:
    """What the customer said last in the outer query's conversation ("" for nothing): a
    preview is theirs, not our reply."""
    conversation = CONVERSATION.c
    message = MESSAGE.c
    return func.coalesce(
        select(message.text)
        .where(message.conversation_id == conversation.id, message.direction == Direction.INBOUND)
        .order_by(message.created_at.desc(), message.id.desc())
        .limit(1)
        .scalar_subquery(), "")


def _inbox_select() -> Any:
    conversation = CONVERSATION.c
    message = MESSAGE.c
    any_pii = (
        select(message.id)
        .where(message.conversation_id == conversation.id, message.has_pii.is_(True))
        .exists()
    )
    return (
        core_select(
            conversation.id, conversation.status, ACCOUNT.c.platform,
            conversation.channel, conversation.visibility, ACCOUNT.c.name,
            CONTACT.c.display_name,
            last_customer_text(), any_pii, conversation.assignee,
            conversation.last_message_at, conversation.last_inbound_at,
            conversation.last_outbound_at, conversation.sla_started_at,
            conversation.first_response_due_at,
        )
        .select_from(CONVERSATION)
        .join(ACCOUNT, ACCOUNT.c.id == conversation.account_id)
        .join(CONTACT, CONTACT.c.id == conversation.contact_id, isouter=True)
    )


def _filtered(statement: Any, inbox_filter: InboxFilter, status: str | None,
              search_ids: Any, now: datetime | None = None) -> Any:
    conversation = CONVERSATION.c
    message = MESSAGE.c
    if status is not None:
        statement = statement.where(conversation.status == status)
    if inbox_filter.channel is not None:
        statement = statement.where(conversation.channel == inbox_filter.channel)
    if inbox_filter.account is not None:
        statement = statement.where(ACCOUNT.c.name == inbox_filter.account)
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
    message = MESSAGE.c
    # The index's own expression (migration 0013), with constants, not bound parameters:
    # PostgreSQL uses an expression index only for the very same expression.
    vector = func.to_tsvector(literal_column("'simple'"), folded_text(message.text))
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
    channels = sorted({(platform, channel.value) for _, platform in accounts
                       for channel in channels_of(platform)})
    return InboxChoices(channels=channels, accounts=[name for name, _ in accounts],
                        assignees=known_assignees(engine))


def known_assignees(engine: Engine) -> list[str]:
    """Initials conversations are assigned to now, for the "assign to…" choices."""
    with Session(engine) as session:
        rows = session.exec(
            select(Conversation.assignee).distinct()
            .where(col(Conversation.assignee).is_not(None)).order_by(col(Conversation.assignee))
        ).all()
    return [row for row in rows if row]
