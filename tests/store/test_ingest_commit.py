"""On PostgreSQL a pulled page's commit does not wait for the disk; the outbox's record of a
sent action, which no later pass would repair, does."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from connectors.base import Channel, PullPage, SendReceipt
from socialdesk.clock import system_clock
from socialdesk.config import settings_from_mapping
from socialdesk.desk import answers
from socialdesk.desk.outbox_state import load_action, record_sent, transition
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.models import Conversation, OutboxState
from tests.support import item

ON_POSTGRES = pytest.mark.parametrize("store_url", [pytest.param(
    "postgresql", marks=pytest.mark.postgres)], indirect=True)
SETTINGS = settings_from_mapping({"accounts": [{
    "name": "brand-x", "platform": "x", "user_id": "1", "bearer_token_env": "A",
    "consumer_key_env": "A", "consumer_secret_env": "A", "access_token_env": "A",
    "access_token_secret_env": "A"}]}, source="test")


def commit_settings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, `synchronous_commit` as each transaction stands just before its commit."""
    seen: list[str] = []
    commit = Session.commit

    def reading(session: Session) -> None:
        seen.append(session.connection().execute(
            text("SELECT current_setting('synchronous_commit')")).scalar_one())
        commit(session)

    monkeypatch.setattr(Session, "commit", reading)
    return seen


def commit_setting(store: Engine, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> str:
    """`synchronous_commit` as the page's transaction stands just before its commit."""
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    with Session(store) as session:
        seen = commit_settings(monkeypatch)
        ingest_page(session, account, PullPage("mentions", [item("1")], cursor="1"),
                    now=system_clock(), **kw)
        monkeypatch.undo()
        after = session.connection().execute(
            text("SELECT current_setting('synchronous_commit')")).scalar_one()
    assert after == "on"  # this transaction only: the connection goes back to the pool
    (setting,) = seen
    return str(setting)


@ON_POSTGRES
def test_a_pulled_page_commits_without_waiting_for_the_disk(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert commit_setting(store, monkeypatch) == "off"


@ON_POSTGRES
def test_a_page_nothing_would_fetch_again_commits_to_disk(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert commit_setting(store, monkeypatch, refetchable=False) == "on"


@ON_POSTGRES
def test_the_record_of_a_sent_answer_commits_to_disk(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    dm = item("200", channel=Channel.DM, thread_key="u1-me", author="u1", text="order?")
    with Session(store) as session:
        ingest_page(session, account, PullPage("dms", [dm]), now=system_clock())
        (conversation,) = session.exec(select(Conversation.id)).all()
    queued = answers.reply(store, conversation or 0, "Eccoci.", "AB", now=system_clock)
    with Session(store) as session:
        assert transition(session, queued.id or 0, OutboxState.PENDING, OutboxState.SENDING,
                          system_clock())
        session.commit()
    seen = commit_settings(monkeypatch)
    sent = record_sent(store, SETTINGS, load_action(store, queued.id or 0),
                       SendReceipt("900"), (OutboxState.SENDING,), system_clock())
    monkeypatch.undo()
    assert sent.state == OutboxState.SENT.value
    assert seen and set(seen) == {"on"}
