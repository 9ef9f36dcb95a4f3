"""The queue's search at its fast path: the last word's prefix spelled out as the words it
stands for, and the page chosen before its previews are read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.store.models import Account, Conversation, Message
from socialdesk.store.queries.queue import InboxFilter, inbox_count, inbox_page, page_statement
from socialdesk.store.queries.search import search_message_ids, spelled_out_query
from tests.store.test_desk_queries import sqlite_page_plan

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TEXTS = ("l'ordine è in ritardo", "due ordini mai arrivati", "ordinato ieri, nessuna consegna",
         "vorrei ordinare di nuovo", "my order is late", "Ordinò un pacco: ORDINE 12",
         "καλημέρα, το δέμα;")


def conversations_saying(engine: Engine, texts: tuple[str, ...]) -> dict[str, int]:
    """One conversation per text, the first the oldest; its id by text."""
    ids: dict[str, int] = {}
    with Session(engine) as session:
        account = Account(name="brand-x", platform="x", created_at=T0)
        session.add(account)
        session.flush()
        for number, words in enumerate(texts):
            at = T0 + timedelta(minutes=number)
            conversation = Conversation(
                account_id=account.id or 0, channel="mention", visibility="public",
                thread_key=str(number), status="new", last_inbound_at=at, last_message_at=at,
                created_at=at, updated_at=at)
            session.add(conversation)
            session.flush()
            session.add(Message(
                account_id=account.id or 0, conversation_id=conversation.id or 0, platform="x",
                external_id=str(number), channel="mention", visibility="public",
                direction="inbound", text=words, created_at=at, ingested_at=at, raw={}))
            ids[words] = conversation.id or 0
        session.commit()
    return ids


def found(engine: Engine, words: str) -> list[int]:
    return [row.id for row in inbox_page(engine, InboxFilter(search=words), None, 50)]


def newest_first(ids: dict[str, int], *texts: str) -> list[int]:
    return sorted((ids[text] for text in texts), reverse=True)


def test_a_word_typed_so_far_finds_every_word_it_starts(store: Engine) -> None:
    ids = conversations_saying(store, TEXTS)
    ordin = newest_first(ids, *TEXTS[:4], TEXTS[5])
    assert found(store, "ordin") == ordin
    assert found(store, "ÒRDIN") == ordin  # case and accents folded as the index folds them
    assert found(store, "ordine") == newest_first(ids, TEXTS[0], TEXTS[5])
    assert found(store, "ritardo ordin") == [ids[TEXTS[0]]]
    assert found(store, "καλημ") == [ids[TEXTS[6]]]  # not spelled out: FTS5's prefix query
    assert found(store, "ord") == newest_first(ids, *TEXTS[:6])
    assert inbox_count(store, InboxFilter(search="ordin")) == len(ordin)


def test_a_prefix_standing_for_too_many_words_finds_the_same(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = conversations_saying(store, TEXTS)
    spelled = {words: found(store, words) for words in ("ordin", "ord", "ordine 12")}
    monkeypatch.setattr("socialdesk.store.queries.search.PREFIX_TERMS_LIMIT", 1)
    assert {words: found(store, words) for words in spelled} == spelled
    assert spelled["ordine 12"] == [ids[TEXTS[5]]]


def test_the_last_word_is_spelled_out_from_the_index(store: Engine) -> None:
    if store.dialect.name != "sqlite":
        pytest.skip("FTS5 is SQLite's; PostgreSQL's tsquery takes a prefix as it is")
    conversations_saying(store, TEXTS)
    with Session(store) as session:
        assert spelled_out_query(session, "pacco ordin") == (
            '"pacco" AND ("ordin" OR "ordinare" OR "ordinato" OR "ordine" OR "ordini" '
            'OR "ordino")')
        assert spelled_out_query(session, "Città") == '"Città"'  # no other word: a term
        assert spelled_out_query(session, "or") == '"or"*'  # too short to spell out
        assert spelled_out_query(session, '"; DROP') == '"DROP"'


def test_a_search_reads_previews_only_for_the_page_it_shows(store: Engine) -> None:
    """The preview and the personal-data flag are per-conversation subqueries: computed
    for every match before the page was cut, they were half a search's time."""
    if store.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    conversations_saying(store, TEXTS)
    with Session(store) as session:
        statement = page_statement(InboxFilter(search="ordin"), None,
                                   search_message_ids(session, "ordin"), None, 100)
        sql = str(statement.compile(store, compile_kwargs={"literal_binds": True}))
    choice, reading = sqlite_page_plan(store, sql)
    assert "message_fts" in choice and "CORRELATED" not in choice, choice
    # the preview's text, its stored spans and the public personal-data flag, per shown row
    assert reading.count("CORRELATED SCALAR SUBQUERY") == 3, reading
