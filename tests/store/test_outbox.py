"""The outbox in the store, on SQLite and PostgreSQL: claims, channel rules, audit."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from connectors.base import ActionKind, Channel, PullPage
from socialdesk.clock import system_clock
from socialdesk.config import Settings
from socialdesk.desk import answers, outbox, outbox_queue
from socialdesk.platforms.channel_rules import ChannelRuleError
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.models import AuditEntry, Conversation, OutboxAction
from tests.support import item


def _store_dm_and_mention(store: Engine) -> tuple[int, int]:
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    page = PullPage("mentions", [
        item("100", channel=Channel.MENTION, author="u1", text="@brand help"),
        item("200", channel=Channel.DM, thread_key="u1-me", author="u1", text="order?"),
    ])
    with Session(store) as session:
        ingest_page(session, account, page, now=system_clock())
        rows = session.exec(select(Conversation)).all()
    by_channel = {row.channel: row.id or 0 for row in rows}
    return by_channel["mention"], by_channel["dm"]


def test_a_reply_in_a_dm_is_a_dm_and_in_a_mention_a_public_reply(store: Engine) -> None:
    mention, dm = _store_dm_and_mention(store)
    answer = answers.reply(store, dm, "Le rispondo qui.", "AB", now=system_clock)
    assert answer.kind == "direct_message"
    public = answers.reply(store, mention, "Le rispondiamo in DM.", "AB", now=system_clock)
    assert (public.kind, public.target_external_id) == ("reply", "100")


def test_a_public_reply_to_a_private_conversation_is_never_queued(store: Engine) -> None:
    _mention, dm = _store_dm_and_mention(store)
    request = outbox_queue.ActionRequest(1, "x", ActionKind.REPLY, "AB", "ciao", conversation_id=dm,
                                   target_external_id="200")
    with Session(store) as session, pytest.raises(ChannelRuleError, match="private"):
        outbox_queue.queue(session, request, now=system_clock)
    with Session(store) as session:
        assert session.exec(select(OutboxAction)).all() == []


def test_every_action_is_audited_with_who_asked(store: Engine) -> None:
    mention, _dm = _store_dm_and_mention(store)
    queued = answers.reply(store, mention, "Grazie!", "MR", now=system_clock)
    with Session(store) as session:
        [entry] = session.exec(select(AuditEntry)).all()
    assert (entry.actor, entry.action, entry.target_id) == ("MR", "reply", str(mention))
    assert entry.detail["outbox_action_id"] == queued.id
    assert queued.requested_by == "MR"


def test_two_dispatchers_never_claim_the_same_action(store: Engine) -> None:
    mention, _dm = _store_dm_and_mention(store)
    queued = answers.reply(store, mention, "Grazie!", "AB", now=system_clock)
    settings = Settings()
    wins: list[bool] = []

    def claim() -> None:
        dispatcher = outbox._Dispatcher(store, settings, system_clock)
        with Session(store) as session:
            won = outbox._take(session, queued.id or 0, dispatcher)
            session.commit()
        wins.append(won)

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 5 + [True]
    with Session(store) as session:
        row = session.get(OutboxAction, queued.id)
    assert row is not None and (row.state, row.attempts) == ("sending", 1)
