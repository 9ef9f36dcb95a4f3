"""Ingest's statements below SQLAlchemy store exactly what SQLAlchemy would store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, select

from connectors.base import Channel, PullPage
from socialdesk.clock import system_clock
from socialdesk.store.driver import Driver, json_text, sqlite_time
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.models import Contact, Conversation, Message
from socialdesk.store.tables import MESSAGE
from tests.support import T0, item

_SQLITE = sqlite.dialect()
_SQLALCHEMY_SQLITE_TIME = MESSAGE.c.created_at.type.dialect_impl(_SQLITE).bind_processor(_SQLITE)

# hypothesis takes naive bounds and adds the time zones itself
instants = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),  # noqa: DTZ001
                        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                                   timezone(-timedelta(hours=8))]))


@given(instants)
def test_sqlite_times_are_written_as_sqlalchemy_writes_them(instant: datetime) -> None:
    """SQLite compares times as text: one character of difference and `<` lies."""
    assert _SQLALCHEMY_SQLITE_TIME is not None
    assert sqlite_time(instant) == _SQLALCHEMY_SQLITE_TIME(instant)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=20)


@given(json_values)
def test_json_is_written_as_sqlalchemy_writes_it(value: object) -> None:
    """The ORM's JSON type writes `json.dumps(value)`; the driver's encoder is made once."""
    assert json_text(value) == json.dumps(value)


def test_a_naive_time_is_refused_as_sqlmodel_refuses_it() -> None:
    with pytest.raises(ValueError, match="timezone"):
        sqlite_time(datetime(2026, 1, 1))  # noqa: DTZ001  (the point of the test)


def test_rows_written_below_the_orm_read_back_through_it_unchanged(store: Engine) -> None:
    """Times, JSON, enums and flags of a message ingest stored, read by the ORM; and the
    driver reads the conversation's times back as the ORM does."""
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    late = T0.astimezone(timezone(timedelta(hours=2))) + timedelta(microseconds=7)
    mention = item("42", text="scrivete a mario@example.com", raw={"id": "42", "n": [1, None]})
    mention = type(mention)(**{**mention.__dict__, "created_at": late})
    with Session(store) as session:
        ingest_page(session, account, PullPage("mentions", [mention]), now=T0,
                    find_spans=lambda _text, _context: [(11, 28, "EMAIL")])
    with Session(store) as session:
        message = session.exec(select(Message)).one()
        conversation = session.exec(select(Conversation)).one()
        assert message.created_at == late and message.created_at.tzinfo == UTC
        assert message.raw == {"id": "42", "n": [1, None]}
        assert message.pii_spans == [[11, 28, "EMAIL"]] and message.pii_types == "EMAIL"
        assert message.has_pii is True and message.automated is False
        assert message.privacy_state == "undecided" and message.channel == Channel.MENTION
        assert conversation.opened_at == late
        driver = Driver(session)
        (stored,) = driver.rows("SELECT opened_at FROM conversation")
        assert driver.read_time(stored[0]) == late


AWKWARD = ["NULL", "{a,b}", 'say "hi", \\o/', "l'ordine è {\"x\"}", "", " ",
           "\u00e9\u0301 \U0001f600"]
"""Values an array sent as text must escape (PostgreSQL's array syntax: quotes, braces,
commas, backslashes, the word NULL, blanks), and characters beyond ASCII."""


def test_awkward_text_is_stored_and_found_again_as_it_came(store: Engine) -> None:
    """Ingest sends a page's values as arrays on PostgreSQL: every text comes back as it
    went, and the duplicate, handle and thread lookups find those values again (the same
    page twice adds nothing, an author gets one contact card, a reply joins its
    awkwardly named thread)."""
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    page = [item(f"id {words}", text=words or "(empty)", author=f"user {words}",
                 thread_key=f"thread {words}", minutes=number)
            for number, words in enumerate(AWKWARD)]
    replies = [item(f"reply {words}", parent=f"id {words}", author=f"user {words}",
                    thread_key=f"thread {words}", minutes=30 + number)
               for number, words in enumerate(AWKWARD)]
    with Session(store) as session:
        first = ingest_page(session, account, PullPage("mentions", page), now=T0)
        again = ingest_page(session, account, PullPage("mentions", page + replies), now=T0)
    assert len(first.new_message_ids) == len(AWKWARD)
    assert again.duplicates == len(AWKWARD) and len(again.new_message_ids) == len(AWKWARD)
    with Session(store) as session:
        messages = session.exec(select(Message).order_by(Message.id)).all()
        conversations = session.exec(select(Conversation)).all()
        contacts = session.exec(select(Contact)).all()
    assert len(contacts) == len(AWKWARD)  # each author found again, not a second card
    assert [m.external_id for m in messages[:len(AWKWARD)]] == [f"id {w}" for w in AWKWARD]
    assert [m.author_name for m in messages[:len(AWKWARD)]] == [f"Name user {w}"
                                                                 for w in AWKWARD]
    assert [m.text for m in messages[:len(AWKWARD)]] == [w or "(empty)" for w in AWKWARD]
    assert sorted(c.thread_key for c in conversations) == sorted(f"thread {w}" for w in AWKWARD)
    by_id = {m.external_id: m.conversation_id for m in messages}
    assert all(by_id[f"reply {w}"] == by_id[f"id {w}"] for w in AWKWARD)
