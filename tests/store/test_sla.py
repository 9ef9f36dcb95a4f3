"""Due times in the store: set when a conversation opens or reopens, reported when missed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from connectors.base import Channel, Direction, PullPage
from socialdesk.clock import system_clock
from socialdesk.config import settings_from_mapping
from socialdesk.rules_config import HoursSettings
from socialdesk.scheduler import DeskScheduler
from socialdesk.service.hours import BusinessHours
from socialdesk.service.sla import DueClock, fill_missing_due_times, overdue_conversations
from socialdesk.store import ingest as ingest_module
from socialdesk.store.ingest import IngestReport, ensure_account, ingest_page
from socialdesk.store.models import Conversation, Status
from tests.support import T0, item

# Monday to Friday 09:00-18:00 in Rome; T0 is Monday 30 Nov 2026, 10:00 in Rome.
HOURS = BusinessHours.from_settings(HoursSettings())
SLA = 60


def store_page(store: Engine, *items: object, clock: DueClock | None = None) -> IngestReport:
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    with Session(store) as session:
        return ingest_page(session, account, PullPage("dms", list(items)),  # type: ignore[arg-type]
                           now=system_clock(), due_clock=clock or DueClock(HOURS, SLA))


def conversation(store: Engine, thread_key: str) -> Conversation:
    with Session(store) as session:
        return session.exec(select(Conversation).where(Conversation.thread_key == thread_key)).one()


def test_a_new_conversation_is_due_after_the_sla_in_business_time(store: Engine) -> None:
    evening = 8 * 60 + 30  # 18:30 in Rome: closed until Tuesday 09:00
    store_page(store, item("d1", channel=Channel.DM, thread_key="t1", minutes=evening))
    opened = conversation(store, "t1")
    assert opened.sla_started_at == T0 + timedelta(minutes=evening)
    assert opened.first_response_due_at == T0 + timedelta(days=1, minutes=-60 + SLA)


def test_an_older_message_later_in_the_same_walk_moves_the_due_time_earlier(
    store: Engine,
) -> None:
    walk = DueClock(HOURS, SLA)
    store_page(store, item("d2", channel=Channel.DM, thread_key="t", minutes=30), clock=walk)
    store_page(store, item("d1", channel=Channel.DM, thread_key="t", minutes=0), clock=walk)
    assert conversation(store, "t").first_response_due_at == T0 + timedelta(minutes=SLA)


def test_an_older_message_arriving_after_our_answer_moves_the_due_time_earlier(
    store: Engine,
) -> None:
    """The conversation's timestamps are recomputed in SQL then (its first response may be
    an answer an earlier page brought), and its due time after them."""
    walk = DueClock(HOURS, SLA)
    store_page(store, item("d2", channel=Channel.DM, thread_key="t", minutes=30),
               item("a1", channel=Channel.DM, thread_key="t", minutes=40, author="brand",
                    direction=Direction.OUTBOUND), clock=walk)
    assert conversation(store, "t").first_response_due_at == T0 + timedelta(minutes=30 + SLA)
    store_page(store, item("d1", channel=Channel.DM, thread_key="t", minutes=0), clock=walk)
    moved = conversation(store, "t")
    assert moved.opened_at == T0 and moved.first_response_at == T0 + timedelta(minutes=40)
    assert moved.sla_started_at == T0
    assert moved.first_response_due_at == T0 + timedelta(minutes=SLA)


def test_a_page_and_its_due_times_are_stored_together_or_not_at_all(store: Engine) -> None:
    class BrokenClock(DueClock):
        def __call__(self, *_args: Any) -> tuple[datetime, datetime] | None:
            raise RuntimeError("hours unreadable")

        def opening(self, *_args: Any) -> tuple[datetime, datetime] | None:
            raise RuntimeError("hours unreadable")

    with pytest.raises(RuntimeError):
        store_page(store, item("d1", channel=Channel.DM, thread_key="t"),
                   clock=BrokenClock(HOURS, SLA))
    with Session(store) as session:
        assert session.exec(select(Conversation)).all() == []


def test_a_follow_up_in_an_open_conversation_keeps_the_first_due_time(store: Engine) -> None:
    store_page(store, item("d1", channel=Channel.DM, thread_key="t", minutes=0))
    store_page(store, item("d2", channel=Channel.DM, thread_key="t", minutes=20))
    assert conversation(store, "t").first_response_due_at == T0 + timedelta(minutes=SLA)


def test_a_reopened_conversation_counts_from_the_message_that_reopened_it(store: Engine) -> None:
    store_page(store, item("d1", channel=Channel.DM, thread_key="t", minutes=0),
               item("a1", channel=Channel.DM, thread_key="t", minutes=5, author="brand",
                    direction=Direction.OUTBOUND))
    with Session(store) as session:
        session.connection().execute(
            update(Conversation).values(status=Status.RESOLVED.value, resolved_at=T0)
        )
        session.commit()
    report = store_page(store, item("d2", channel=Channel.DM, thread_key="t", minutes=120))
    reopened = conversation(store, "t")
    assert reopened.id in report.reopened_at and reopened.status == Status.OPEN.value
    assert reopened.sla_started_at == T0 + timedelta(minutes=120)
    assert reopened.first_response_due_at == T0 + timedelta(minutes=120 + SLA)
    assert [c.id for c in overdue_conversations(store, T0 + timedelta(hours=4))] == [reopened.id]


def test_only_unanswered_conversations_past_due_are_overdue(store: Engine) -> None:
    store_page(store,
               item("d1", channel=Channel.DM, thread_key="waiting", minutes=0),
               item("d2", channel=Channel.DM, thread_key="answered", minutes=0, author="u2"),
               item("a2", channel=Channel.DM, thread_key="answered", minutes=30, author="brand",
                    direction=Direction.OUTBOUND),
               item("d3", channel=Channel.DM, thread_key="recent", minutes=50, author="u3"))
    at = T0 + timedelta(minutes=SLA + 1)
    assert [c.id for c in overdue_conversations(store, at)] == [conversation(store, "waiting").id]
    assert overdue_conversations(store, T0 + timedelta(minutes=SLA - 1)) == []


def test_conversations_left_without_a_due_time_get_one(store: Engine) -> None:
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    with Session(store) as session:
        page = PullPage("dms", [item("d1", channel=Channel.DM)])
        ingest_page(session, account, page, now=system_clock())
    assert conversation(store, "d1").first_response_due_at is None
    assert fill_missing_due_times(store, {"brand-x": HOURS}, SLA) == 1
    assert conversation(store, "d1").first_response_due_at == T0 + timedelta(minutes=SLA)
    assert fill_missing_due_times(store, {"brand-x": HOURS}, SLA) == 0


def test_the_sla_check_of_run_logs_one_summary_line_at_start_and_when_the_set_changes(
    store: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store_page(store, item("d1", channel=Channel.DM, thread_key="t", minutes=0),
               item("d2", channel=Channel.DM, thread_key="u", minutes=1),
               item("d3", channel=Channel.DM, thread_key="v", minutes=2))
    settings = settings_from_mapping({"accounts": [{
        "name": "brand-x", "platform": "x", "user_id": "1", "bearer_token_env": "A",
        "consumer_key_env": "A", "consumer_secret_env": "A", "access_token_env": "A",
        "access_token_secret_env": "A"}]}, source=str(tmp_path / "c.toml"))
    desk = DeskScheduler(settings, store, now=lambda: T0 + timedelta(hours=2))
    first, second, third = (conversation(store, key).id for key in "tuv")
    with caplog.at_level(logging.INFO, logger="socialdesk.scheduler"):
        assert desk.check_sla() == [first, second, third]
        desk.check_sla()
        with Session(store) as session:
            session.connection().execute(update(Conversation).where(
                Conversation.id == second).values(status=Status.RESOLVED.value))  # type: ignore[arg-type]
            session.commit()
        desk.check_sla()
        desk.check_sla()
    sla_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("SLA")]
    assert sla_lines == [
        f"SLA: 3 conversations past their SLA: #{first}, #{second}, #{third}",
        f"SLA: 2 conversations past their SLA: #{first}, #{third}",
    ]


def test_a_conversation_our_echo_opens_and_a_customer_reopens_in_one_page_counts_from_them(
    store: Engine,
) -> None:
    """A conversation a page opens is inserted already folded and timed: here as a resolved
    one (our echo) that the customer's message right after reopened."""
    report = store_page(store,
                        item("a1", channel=Channel.DM, thread_key="t", minutes=0,
                             author="brand", direction=Direction.OUTBOUND),
                        item("d1", channel=Channel.DM, thread_key="t", minutes=10))
    opened = conversation(store, "t")
    assert report.reopened_at == {opened.id: T0 + timedelta(minutes=10)}
    assert opened.status == Status.OPEN.value and opened.opened_at == T0 + timedelta(minutes=10)
    assert opened.sla_started_at == T0 + timedelta(minutes=10)
    assert opened.first_response_due_at == T0 + timedelta(minutes=10 + SLA)


def test_a_message_another_process_stored_meanwhile_leaves_the_opened_conversation(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the page's lookups and its INSERT another process stores the customer's
    message (threaded elsewhere): the conversation the page opens was inserted folded with
    it and timed from it, and is folded again from our answer alone, without a due time."""
    real_link_contacts = ingest_module.link_contacts

    def racing(*args: Any) -> dict[str, int]:
        monkeypatch.setattr(ingest_module, "link_contacts", real_link_contacts)
        store_page(store, item("d1", channel=Channel.DM, thread_key="elsewhere", minutes=0))
        return real_link_contacts(*args)

    monkeypatch.setattr(ingest_module, "link_contacts", racing)
    report = store_page(store,
                        item("d1", channel=Channel.DM, thread_key="t", minutes=0),
                        item("a1", channel=Channel.DM, thread_key="t", minutes=10,
                             author="brand", direction=Direction.OUTBOUND))
    assert report.duplicates == 1 and len(report.new_message_ids) == 1
    opened = conversation(store, "t")
    assert opened.status == Status.NEW.value and opened.opened_at is None
    assert opened.first_response_at is None and opened.last_inbound_at is None
    assert opened.last_outbound_at == opened.last_message_at == T0 + timedelta(minutes=10)
    assert opened.sla_started_at is None and opened.first_response_due_at is None
