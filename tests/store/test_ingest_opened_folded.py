"""Conversations a page opens are written once, already folded, on PostgreSQL; the state
they end in is the same on both engines, also when another process stored one of the
page's messages meanwhile."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from connectors.base import Channel, Direction, InboundItem, PullPage
from socialdesk.clock import system_clock
from socialdesk.rules_config import HoursSettings
from socialdesk.service.hours import BusinessHours
from socialdesk.service.sla import DueClock
from socialdesk.store import ingest as ingest_module
from socialdesk.store.driver import Driver
from socialdesk.store.ingest import IngestReport, ensure_account, ingest_page
from socialdesk.store.models import Account, Conversation, Status
from tests.support import T0, item

ON_POSTGRES = pytest.mark.parametrize("store_url", [pytest.param(
    "postgresql", marks=pytest.mark.postgres)], indirect=True)
HOURS = BusinessHours.from_settings(HoursSettings())
SLA = 60


def store_page(store: Engine, account: Account, *items: InboundItem) -> IngestReport:
    with Session(store) as session:
        return ingest_page(session, account, PullPage("dms", list(items)), now=system_clock(),
                           due_clock=DueClock(HOURS, SLA))


def conversation(store: Engine, account: Account, thread_key: str) -> Conversation:
    with Session(store) as session:
        return session.exec(select(Conversation).where(
            Conversation.account_id == account.id, Conversation.thread_key == thread_key)).one()


def dm(external_id: str, **kw: Any) -> InboundItem:
    return item(external_id, channel=Channel.DM, thread_key="t1", **kw)


@ON_POSTGRES
def test_a_page_that_opens_conversations_updates_none_of_them(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    sent: list[str] = []
    later = Driver.later

    def recording(self: Driver, sql: str, parameters: Sequence[Any] = ()) -> None:
        sent.append(sql)
        later(self, sql, parameters)

    monkeypatch.setattr(Driver, "later", recording)
    store_page(store, account, dm("1", minutes=0), dm("2", author="9", minutes=5,
                                                      direction=Direction.OUTBOUND),
               item("3", channel=Channel.DM, thread_key="t2", minutes=7),
               item("4", thread_key="t3", parent="3", minutes=9))  # joins t2's, by parent
    assert sent and not [sql for sql in sent if sql.startswith("UPDATE conversation")]
    opened = conversation(store, account, "t1")
    assert opened.status == Status.OPEN
    assert opened.first_response_at == T0 + timedelta(minutes=5)
    assert opened.sla_started_at == T0 and opened.first_response_due_at is not None
    assert conversation(store, account, "t2").last_inbound_at == T0 + timedelta(minutes=9)


def test_an_echo_then_a_customer_in_a_new_thread_reopens_it_in_the_report(
    store: Engine,
) -> None:
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    report = store_page(store, account, dm("1", author="9", direction=Direction.OUTBOUND),
                        dm("2", minutes=10), dm("3", minutes=12))
    opened = conversation(store, account, "t1")
    assert report.reopened_at == {opened.id: T0 + timedelta(minutes=10)}
    assert opened.status == Status.OPEN and opened.resolved_at is None
    assert opened.sla_started_at == T0 + timedelta(minutes=10)
    assert opened.last_inbound_at == T0 + timedelta(minutes=12)


def stored_meanwhile(monkeypatch: pytest.MonkeyPatch, store: Engine, other: Account,
                     *taken: InboundItem) -> None:
    """Another account's sync stores `taken` (and commits) after this page's lookups and
    before its messages' INSERT, which then skips them. (Written by another author: the
    page's own new contact is not committed yet, and would make the other sync wait.)"""
    insert_messages = ingest_module.insert_messages

    def racing(*args: Any, **kw: Any) -> Any:
        monkeypatch.setattr(ingest_module, "insert_messages", insert_messages)
        store_page(store, other, *taken)
        return insert_messages(*args, **kw)

    monkeypatch.setattr(ingest_module, "insert_messages", racing)


def race_on_the_first_dm(store: Engine, monkeypatch: pytest.MonkeyPatch
                         ) -> tuple[Account, InboundItem]:
    """The brand's account and its first DM, which another sync (another account of the
    same platform) stores while this page is being written."""
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    other = ensure_account(store, "brand-x2", "x", now=system_clock())
    first = dm("1", minutes=0)
    stored_meanwhile(monkeypatch, store, other, dm("1", author="u7", minutes=0))
    return account, first


@ON_POSTGRES
def test_a_message_stored_meanwhile_is_not_folded_into_the_conversation_it_opened(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, first = race_on_the_first_dm(store, monkeypatch)
    store_page(store, account, first, dm("2", minutes=20))
    opened = conversation(store, account, "t1")
    assert opened.opened_at == opened.last_inbound_at == T0 + timedelta(minutes=20)
    assert opened.sla_started_at == T0 + timedelta(minutes=20)
    assert opened.status == Status.NEW


@ON_POSTGRES
def test_a_new_conversation_whose_messages_were_all_stored_meanwhile_stays_bare(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, first = race_on_the_first_dm(store, monkeypatch)
    report = store_page(store, account, first)
    assert report.new_message_ids == [] and report.duplicates == 1
    opened = conversation(store, account, "t1")
    assert opened.status == Status.NEW
    assert (opened.opened_at, opened.last_message_at, opened.sla_started_at,
            opened.first_response_due_at) == (None, None, None, None)
