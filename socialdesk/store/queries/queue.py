"""The queue: filtered, searched, keyset-paged conversation rows and the filters' choices. No
writes."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Engine,
    and_,
    func,
    literal,
    or_,
    tuple_,
)
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from connectors.base import Direction, Visibility
from socialdesk.platforms.registry import channels_of
from socialdesk.store.models import Account, Conversation, Status
from socialdesk.store.queries.search import SEARCH_MATCH_LIMIT as SEARCH_MATCH_LIMIT
from socialdesk.store.queries.search import full_text_query as full_text_query
from socialdesk.store.queries.search import search_hits_limit as hits_limit
from socialdesk.store.queries.search import search_message_ids
from socialdesk.store.tables import ACCOUNT, CONTACT, CONVERSATION, MESSAGE

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
    """Only conversations with personal data exposed in public (`public_personal_data`):
    an order number sent privately is no reason to look."""
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
    """The customer's last message, whole and unmasked: `preview_spans` mask it."""
    has_pii: bool
    """Personal data in a public message of the conversation (`public_personal_data`)."""
    assignee: str | None
    last_message_at: datetime | None
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    sla_started_at: datetime | None = None
    first_response_due_at: datetime | None = None
    preview_spans: list[list[Any]] | None = None
    """`[start, end, type]` stored at ingest for the preview's message, offsets into it."""

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
        search_ids = search_message_ids(session, inbox_filter.search)
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
        search_ids = search_message_ids(session, inbox_filter.search)
        for status in _statuses(inbox_filter):
            statement = select(func.count()).select_from(CONVERSATION)
            statement = statement.where(sort_column.is_not(None))
            statement = filter_statement(statement, inbox_filter, status, search_ids, now)
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
    statement = page_statement(inbox_filter, status, search_ids, after, limit, now, reverse)
    return [InboxRow(*row) for row in session.exec(statement).all()]


def page_statement(
    inbox_filter: InboxFilter,
    status: str | None,
    search_ids: Any,
    after: InboxKey | None,
    limit: int,
    now: datetime | None = None,
    reverse: bool = False,
) -> Any:
    """One status's page of `InboxRow` columns. The page's conversations are chosen first,
    by id and sort column alone, then only those are read with their preview and PII flag:
    ordering a search's matches with every column sorted them after computing both
    per-conversation subqueries for each of up to `SEARCH_MATCH_LIMIT` conversations (half
    of a search's time at a million messages)."""
    conversation = CONVERSATION.c
    waiting = inbox_filter.sort == SORT_WAITING
    sort_column = conversation.last_inbound_at if waiting else conversation.last_message_at
    chosen = core_select(conversation.id.label("id"), sort_column.label("at")).select_from(
        CONVERSATION)
    chosen = chosen.where(sort_column.is_not(None))
    chosen = filter_statement(chosen, inbox_filter, status, search_ids, now)
    ascending = waiting != reverse  # waiting order, or newest-first walked from its end
    if after is not None:
        if ascending:
            chosen = chosen.where(sort_column >= after.at, tuple_(sort_column, conversation.id)
                                  > tuple_(_bound(after.at), after.id))
        else:
            chosen = chosen.where(sort_column <= after.at, tuple_(sort_column, conversation.id)
                                  < tuple_(_bound(after.at), after.id))
    if ascending:
        chosen = chosen.order_by(sort_column.asc(), conversation.id.asc())
    else:
        chosen = chosen.order_by(sort_column.desc(), conversation.id.desc())
    page = chosen.limit(limit).subquery("page")
    statement = _inbox_select().join(page, page.c.id == conversation.id)
    if ascending:
        statement = statement.order_by(page.c.at.asc(), page.c.id.asc())
    else:
        statement = statement.order_by(page.c.at.desc(), page.c.id.desc())
    return statement


def _bound(moment: datetime) -> Any:
    """A keyset bound typed like the column: SQLite compares the stored text form."""
    return literal(moment, type_=CONVERSATION.c.last_message_at.type)


def last_customer_text() -> Any:
    """What the customer said last in the outer query's conversation ("" for nothing): a
    preview is theirs, not our reply."""
    return func.coalesce(_last_customer(MESSAGE.c.text), "")


def last_customer_spans() -> Any:
    """The spans stored with that same message (`last_customer_text`): the preview is
    masked with them, never scanned again."""
    return _last_customer(MESSAGE.c.pii_spans)


def _last_customer(column: Any) -> Any:
    conversation = CONVERSATION.c
    message = MESSAGE.c
    return (
        select(column)
        .where(message.conversation_id == conversation.id, message.direction == Direction.INBOUND)
        .order_by(message.created_at.desc(), message.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def public_personal_data() -> Any:
    """Whether a public message of the outer query's conversation holds personal data: an
    exposure, what the queue's PII marker and `p` filter mean. Data shared in a private
    message (an order number over DM) is on the customer card instead."""
    conversation = CONVERSATION.c
    message = MESSAGE.c
    return (
        select(message.id)
        .where(message.conversation_id == conversation.id, message.has_pii.is_(True),
               message.visibility == Visibility.PUBLIC.value)
        .exists()
    )


def _inbox_select() -> Any:
    """A row's columns. The preview's text and spans are two lookups of the same index
    entries (a join on the preview's id made PostgreSQL hash-join whole tables)."""
    conversation = CONVERSATION.c
    return (
        core_select(
            conversation.id, conversation.status, ACCOUNT.c.platform,
            conversation.channel, conversation.visibility, ACCOUNT.c.name,
            CONTACT.c.display_name,
            last_customer_text(), public_personal_data(), conversation.assignee,
            conversation.last_message_at, conversation.last_inbound_at,
            conversation.last_outbound_at, conversation.sla_started_at,
            conversation.first_response_due_at, last_customer_spans(),
        )
        .select_from(CONVERSATION)
        .join(ACCOUNT, ACCOUNT.c.id == conversation.account_id)
        .join(CONTACT, CONTACT.c.id == conversation.contact_id, isouter=True)
    )


def filter_statement(statement: Any, inbox_filter: InboxFilter, status: str | None,
                     search_ids: Any, now: datetime | None = None) -> Any:
    """`statement`, over `conversation`, narrowed to what the queue shows for `inbox_filter`
    and `status`: take-next (`socialdesk.store.take_next`) hands out only what the desk's
    filters show. `account` is joined only when the filter names one: the join costs 10×
    on a plain count."""
    conversation = CONVERSATION.c
    message = MESSAGE.c
    if status is not None:
        statement = statement.where(conversation.status == status)
    if inbox_filter.channel is not None:
        statement = statement.where(conversation.channel == inbox_filter.channel)
    if inbox_filter.account is not None:
        statement = statement.join(ACCOUNT, ACCOUNT.c.id == conversation.account_id).where(
            ACCOUNT.c.name == inbox_filter.account)
    if inbox_filter.assignee == UNASSIGNED:
        statement = statement.where(conversation.assignee.is_(None))
    elif inbox_filter.assignee is not None:
        statement = statement.where(conversation.assignee == inbox_filter.assignee)
    if inbox_filter.overdue:
        if now is None:
            raise ValueError("the overdue filter needs the time to compare due times with")
        statement = statement.where(overdue_clause(now))
    if inbox_filter.has_pii:
        statement = statement.where(public_personal_data())
    if search_ids is not None:
        statement = statement.where(
            conversation.id.in_(select(message.conversation_id).where(message.id.in_(search_ids)))
        )
    return statement


def search_hits_limit(engine: Engine, words: str) -> bool:
    """Whether more messages match `words` than the queue looks at (`SEARCH_MATCH_LIMIT`):
    its conversations then come from the newest matches only, and the count is not a total."""
    with Session(engine) as session:
        return hits_limit(session, words)


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
