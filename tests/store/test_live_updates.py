"""Live updates: PostgreSQL's NOTIFY triggers reach a ChangeFeed, which reconnects and asks
for a catch-up after its connection is killed; SQLite has no feed (issue 19)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from connectors.base import PullPage
from socialdesk.clock import system_clock
from socialdesk.store.db import create_store_engine, open_store
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.live_updates import (
    CATCH_UP,
    Change,
    ChangeFeed,
    notify_latency,
    parse_payload,
)
from socialdesk.store.models import Conversation, Message, Status
from socialdesk.store.team import heartbeat, leave, take_next
from tests.store.team_seed import account, waiting
from tests.support import item

ON_POSTGRES = pytest.mark.parametrize("store_url", [pytest.param(
    "postgresql", marks=pytest.mark.postgres)], indirect=True)
PATIENCE = 10.0
"""Seconds a test waits for what must come; only a broken feed waits this long."""
QUIET = 0.5
"""Seconds a test listens for what must not come."""


@pytest.fixture
def feed(store: Engine) -> Iterator[ChangeFeed]:
    opened = ChangeFeed.open(store)
    assert opened is not None
    yield opened
    opened.close()


def heard(feed: ChangeFeed, wanted: Change, patience: float = PATIENCE) -> list[Change]:
    """Everything the feed reported until `wanted` came (fails after `patience`)."""
    deadline = time.monotonic() + patience
    seen: list[Change] = []
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"never heard {wanted}; heard {seen}"
        seen += feed.wait(left)
    return seen


def heard_waiting(store: Engine, feed: ChangeFeed, brand: int) -> int:
    """A new conversation waiting on `brand`'s account, once the feed has reported it
    (`heard` fails if it never does): proof that the feed is listening, before a test
    writes what it checks, or as the check itself."""
    conversation = waiting(store, brand, 1)
    heard(feed, Change("conversation", conversation, conversation))
    return conversation


def test_sqlite_has_no_feed_and_the_desk_polls(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    assert ChangeFeed.open(engine) is None
    with pytest.raises(ValueError, match="PostgreSQL"):
        notify_latency(engine, rounds=1)
    engine.dispose()


@ON_POSTGRES
def test_new_conversations_and_status_changes_are_heard(store: Engine, feed: ChangeFeed
                                                        ) -> None:
    conversation = heard_waiting(store, feed, account(store))
    with Session(store) as session:
        row = session.get(Conversation, conversation)
        assert row is not None
        row.status = Status.RESOLVED
        session.add(row)
        session.commit()
    heard(feed, Change("conversation", conversation, conversation))


@ON_POSTGRES
def test_a_message_is_heard_with_its_conversation(store: Engine, feed: ChangeFeed) -> None:
    brand = ensure_account(store, "brand-x", "x", now=system_clock())
    with Session(store) as session:
        ingest_page(session, brand, PullPage(stream="mentions", items=[item("m1")]),
                    now=system_clock())
        message = session.exec(select(Message)).one()
    heard(feed, Change("message", message.id, message.conversation_id))


@ON_POSTGRES
def test_presence_and_holds_are_heard_but_a_renewal_is_not(store: Engine, feed: ChangeFeed
                                                           ) -> None:
    conversation = heard_waiting(store, feed, account(store))
    ab = uuid.uuid4().hex
    assert take_next(store, ab, "AB") == conversation
    heard(feed, Change("hold", conversation, conversation))
    heartbeat(store, ab, "AB", conversation_id=conversation, typing=True)
    heard(feed, Change("presence", ab, conversation))
    heartbeat(store, ab, "AB", conversation_id=conversation, typing=True)
    assert feed.wait(QUIET) == [], "a heartbeat that changes nothing shown is not news"
    leave(store, ab)
    heard(feed, Change("presence", ab, conversation))


@ON_POSTGRES
def test_a_statement_writing_many_rows_names_the_table_alone(store: Engine, feed: ChangeFeed
                                                             ) -> None:
    brand = account(store)
    for minutes in range(101):
        waiting(store, brand, minutes)
    feed.wait(QUIET)
    with store.begin() as connection:
        connection.execute(text("UPDATE conversation SET status = 'open'"))
    heard(feed, Change("conversation", None))


@ON_POSTGRES
def test_a_killed_connection_reconnects_and_asks_for_a_catch_up(store: Engine,
                                                                feed: ChangeFeed) -> None:
    killed = feed.backend_pid
    with store.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                                  {"pid": killed}).scalar()
    brand = account(store)  # written while the feed is deaf
    assert heard(feed, CATCH_UP)[-1] == CATCH_UP
    assert feed.backend_pid not in (None, killed)
    heard_waiting(store, feed, brand)


def test_a_foreign_payload_asks_for_a_catch_up() -> None:
    assert parse_payload("not json") == [CATCH_UP]
    assert parse_payload('{"table": "message", "rows": [[4, 2]]}') == [Change("message", 4, 2)]


@ON_POSTGRES
def test_notify_latency_measures_every_round(store: Engine) -> None:
    latencies = notify_latency(store, rounds=3, timeout=PATIENCE)
    assert len(latencies) == 3
    assert all(0 < latency < PATIENCE for latency in latencies)


@ON_POSTGRES
def test_a_feed_opened_while_the_database_is_away_waits_instead_of_failing(
    store: Engine
) -> None:
    """The desk opens its feed at start; a server out of reach then is no crash: the feed
    keeps trying at each wait (its reconnection is the killed-connection test's)."""
    away = create_store_engine(store.url.set(port=1).render_as_string(hide_password=False))
    feed = ChangeFeed.open(away)
    assert feed is not None and feed.backend_pid is None
    assert feed.wait(0.1) == []
    feed.close()
    away.dispose()
