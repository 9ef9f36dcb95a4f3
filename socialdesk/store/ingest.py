"""Stores one pulled page in one transaction: dedupe, thread, link contacts, advance the cursor.

Idempotent on `(platform, external_id)`: a page stored twice (a retried walk, two
overlapping syncs) adds nothing the second time. The stream's cursor is written in the
same transaction as the items it covers, so a crash loses nothing and doubles nothing.

Set-based and below the ORM: per page a handful of statements (the duplicates, the
authors' handles, the threads' conversations, one multi-row INSERT of the messages, one
UPDATE of the conversations), whatever the page's size, run on the DBAPI connection
(`socialdesk.store.driver`). Whether a message holds personal data, and where, is found
by the caller's `find_spans` and written in the message's own INSERT
(`socialdesk.store.message_rows`); the finder is a plain function, so this layer knows
nothing of the privacy package. After the commit the planner's statistics are refreshed
when the tables have doubled (`socialdesk.store.statistics`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from connectors.base import Direction, InboundItem, PullPage
from socialdesk.store import statistics
from socialdesk.store.contacts import handle_lookups, link_contacts, page_authors
from socialdesk.store.driver import NO_WAIT_FOR_DISK, Driver
from socialdesk.store.due_clock import DueClock
from socialdesk.store.message_rows import FindSpans, Marking, Span, insert_messages
from socialdesk.store.models import Account
from socialdesk.store.quarantine import keep_set_aside
from socialdesk.store.stream_state import advance_cursor
from socialdesk.store.threads import (
    NewMessage,
    refresh_conversations,
    thread_items,
    thread_lookups,
)

__all__ = ["DueClock", "FindSpans", "IngestReport", "Span", "ensure_account", "ingest_page"]


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
    due_clock: DueClock | None = None,
    refetchable: bool = True,
) -> IngestReport:
    """Store `page` for `account` and commit; nothing is written if anything fails.

    `find_spans` marks each new message's personal data (`has_pii`, types, spans) and an
    inbound public one `undecided` for the privacy guard, in the same INSERT; None stores
    the page unscanned (our own sent messages, whose text the desk wrote). `automated`
    marks our own messages that no person wrote (acknowledgements, privacy pointers):
    stored like any other, they are no answer, so they neither start nor stop the
    first-response clock and leave a `new` conversation new. `now` stamps every row the
    page writes (ingested, created, updated). `due_clock` gives the conversations the page
    opened or reopened their first-response due time, in the same UPDATE as their totals
    (`socialdesk.service.sla.DueClock`); None leaves due times alone.

    `refetchable`: the page was pulled from the platform and the next pass can pull it
    again. On PostgreSQL its commit then does not wait for the WAL to reach the disk
    (`synchronous_commit = off`, for this transaction only), which cost a page's commit
    as much as a third of its time (benchmarks/ingest.py). PostgreSQL documents that this
    creates no inconsistency: if the server itself crashes (not socialdesk), only the last
    few hundred milliseconds of commits may be lost, whole. The stream's cursor commits in
    the same transaction, so a lost page is fetched again at the next pass; and any later
    synchronous commit flushes the earlier WAL too, so nothing acts on a page that could
    still be lost: the outbox claims an action in a synchronous commit before sending it
    (`socialdesk.desk.outbox`), the privacy guard's decisions commit synchronously. False
    for a page whose loss nothing would repair: the outbox's record of a sent action,
    committed with it (`socialdesk.desk.outbox_state.record_sent`).
    """
    try:
        report = _store_page(session, account, page, Marking(now, automated, find_spans),
                             due_clock, refetchable)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    bind = session.get_bind()
    if report.new_message_ids and isinstance(bind, Engine):
        statistics.note_growth(bind, len(report.new_message_ids))
    return report


def _store_page(
    session: Session, account: Account, page: PullPage, marking: Marking,
    due_clock: DueClock | None, refetchable: bool,
) -> IngestReport:
    assert account.id is not None
    now = marking.now
    driver = Driver(session)
    report = IngestReport()
    items = sorted(_unique(page.items), key=lambda item: item.created_at)
    if items:
        lookups = _PageLookups(driver, account.id, items)
        stored = lookups.stored_conversations()
        fresh = [item for item in items if item.external_id not in stored]
        report.duplicates = len(items) - len(fresh)
        if fresh:
            contact_ids = link_contacts(driver, page_authors(fresh), lookups.handles(), now)
            threading = thread_items(driver, account.id, fresh, contact_ids, stored,
                                     lookups.threads(), (now, marking.automated), due_clock)
            new_rows = insert_messages(driver, account.id, fresh, threading.conversation_ids,
                                       marking, threading.opened.keys())
            report.duplicates += len(fresh) - len(new_rows)
            _record_new(report, new_rows)
            report.reopened_at = refresh_conversations(session, driver, new_rows, threading,
                                                       now, due_clock)
    report.quarantined = keep_set_aside(session, driver, account, page, now)
    advance_cursor(driver, account, page)
    if refetchable and driver.postgres:
        driver.later(NO_WAIT_FOR_DISK)  # with the page's last writes, in their round trip
    driver.send_later()
    return report


def _unique(items: Iterable[InboundItem]) -> list[InboundItem]:
    """A page may repeat an item (a post edited between two requests); keep the first."""
    seen: dict[tuple[str, str], InboundItem] = {}
    for item in items:
        seen.setdefault((item.platform, item.external_id), item)
    return list(seen.values())


class _PageLookups:
    """What a page needs to read before it writes: its items already stored (with their
    parents), its authors' handles and its threads' conversations. Independent of each
    other, so PostgreSQL answers all three in one round trip (`Driver.rows_together`),
    for all the page's items; SQLite, in process, reads the last two only for a page with
    new items (a page of repeats costs one lookup)."""

    def __init__(self, driver: Driver, account_id: int, items: list[InboundItem]) -> None:
        wanted = {item.external_id for item in items}
        wanted.update(item.parent_external_id for item in items if item.parent_external_id)
        self._driver = driver
        self._queries = {
            "stored": driver.lookups(STORED_MESSAGES, items[0].platform, sorted(wanted)),
            "handles": handle_lookups(driver, page_authors(items)),
            "threads": thread_lookups(driver, account_id, items),
        }
        self._rows: dict[str, list[tuple[Any, ...]]] = {}
        if driver.postgres:
            answers = iter(driver.rows_together(
                [query for group in self._queries.values() for query in group]))
            self._rows = {name: [row for _query in group for row in next(answers)]
                          for name, group in self._queries.items()}

    def _read(self, name: str) -> list[tuple[Any, ...]]:
        if name not in self._rows:
            self._rows[name] = [row for rows in self._driver.rows_together(self._queries[name])
                                for row in rows]
        return self._rows[name]

    def stored_conversations(self) -> dict[str, int]:
        """external_id -> conversation id for the page's items and their parents already
        stored: stored items are skipped before threading, so a re-pull opens no empty
        conversation."""
        return {external_id: int(conversation) for external_id, conversation
                in self._read("stored")}

    def handles(self) -> list[tuple[Any, ...]]:
        return self._read("handles")

    def threads(self) -> list[tuple[Any, ...]]:
        return self._read("threads")


STORED_MESSAGES = ("SELECT external_id, conversation_id FROM message "
                   "WHERE platform = {mark} AND external_id {any_of}")
"""The duplicate lookup: an index lookup on `uq_message_platform_external_id` at any size."""


def _record_new(report: IngestReport, new_messages: list[NewMessage]) -> None:
    for message in new_messages:
        report.new_message_ids.append(message.id)
        report.touched_conversation_ids.add(message.conversation_id)
        if message.direction is Direction.INBOUND:
            report.new_inbound_ids.append(message.id)
