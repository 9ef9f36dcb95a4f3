"""The TUI's read side and operator actions on both engines: keyset pages, search, triage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from socialdesk.clock import system_clock
from socialdesk.desk.triage import TriageError, add_note, assign, merge_contacts, reveal, set_status
from socialdesk.store.models import (
    Account,
    AuditEntry,
    Contact,
    Conversation,
    Handle,
    Message,
    Note,
    Status,
)
from socialdesk.store.queries.card import customer_card
from socialdesk.store.queries.conversation import conversation_view
from socialdesk.store.queries.queue import (
    SORT_WAITING,
    UNASSIGNED,
    InboxFilter,
    full_text_query,
    inbox_choices,
    inbox_count,
    inbox_page,
    latest_change,
    search_hits_limit,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SAME_MINUTE = 3
"""Several conversations share one timestamp, so paging must break ties by id."""


def seed(engine: Engine, count: int = 25) -> list[int]:
    """`count` X mentions, one per contact; every third is resolved, some share a minute."""
    ids = []
    with Session(engine) as session:
        account = Account(name="brand-x", platform="x", created_at=T0)
        session.add(account)
        session.flush()
        for number in range(count):
            at = T0 + timedelta(minutes=number // SAME_MINUTE)
            contact = Contact(display_name=f"Customer {number}", origin=f"x:{number}",
                              created_at=at)
            session.add(contact)
            session.flush()
            session.add(Handle(contact_id=contact.id or 0, platform="x",
                               external_user_id=str(number), username=f"user{number}"))
            conversation = Conversation(
                account_id=account.id or 0, channel="mention", visibility="public",
                thread_key=str(number), contact_id=contact.id,
                status="resolved" if number % 3 == 0 else "new",
                last_inbound_at=at, last_message_at=at, created_at=at, updated_at=at,
            )
            session.add(conversation)
            session.flush()
            words = "città rimborso" if number % 5 == 0 else "order late"
            session.add(Message(
                account_id=account.id or 0, conversation_id=conversation.id or 0,
                platform="x", external_id=str(number), channel="mention",
                visibility="public", direction="inbound", text=f"{words} number {number}",
                created_at=at, ingested_at=at, has_pii=number == 7,
                pii_types="PHONE" if number == 7 else None, raw={},
            ))
            ids.append(conversation.id or 0)
        session.commit()
    return ids


def all_pages(engine: Engine, inbox_filter: InboxFilter, page: int = 4) -> list[int]:
    seen: list[int] = []
    after = None
    while True:
        rows = inbox_page(engine, inbox_filter, after, page)
        seen += [row.id for row in rows]
        if len(rows) < page:
            return seen
        after = rows[-1].key(inbox_filter.sort)


def test_keyset_pages_cover_every_conversation_once_newest_first(store: Engine) -> None:
    ids = seed(store)
    assert all_pages(store, InboxFilter()) == sorted(ids, key=lambda i: (-((i - ids[0]) // 3),
                                                                         -i))


def test_waiting_order_lists_unresolved_oldest_first_across_pages(store: Engine) -> None:
    ids = seed(store)
    unresolved = [i for n, i in enumerate(ids) if n % 3]
    assert all_pages(store, InboxFilter(sort=SORT_WAITING)) == unresolved


def test_filters_combine(store: Engine) -> None:
    ids = seed(store)
    assert all_pages(store, InboxFilter(status="resolved")) == sorted(ids[::3], reverse=True)
    assert all_pages(store, InboxFilter(has_pii=True)) == [ids[7]]
    assert all_pages(store, InboxFilter(account="nope")) == []


def test_search_finds_words_without_their_accents_newest_first(store: Engine) -> None:
    ids = seed(store)
    found = all_pages(store, InboxFilter(search="rimborso"))
    assert found == sorted(ids[::5], reverse=True)
    for spelling in ("citta", "CITTÀ", "Città rimb"):  # accents and case folded alike
        assert all_pages(store, InboxFilter(search=spelling)) == found, spelling
    assert all_pages(store, InboxFilter(search='"; DROP TABLE message; --')) == []


def test_search_sees_messages_added_after_the_index_was_built(store: Engine) -> None:
    seed(store, 3)
    with Session(store) as session:
        conversation = session.exec(select(Conversation)).first()
        assert conversation is not None
        session.add(Message(account_id=conversation.account_id,
                            conversation_id=conversation.id or 0, platform="x",
                            external_id="late", channel="mention", visibility="public",
                            direction="inbound", text="zanzibar parcel", created_at=T0,
                            ingested_at=T0, raw={}))
        conversation_id = conversation.id
        session.commit()
    found = inbox_page(store, InboxFilter(search="zanzi"), None, 10)
    assert [row.id for row in found] == [conversation_id]


def test_assignee_filter_reads_unassigned_and_each_person_and_counts_alike(
    store: Engine,
) -> None:
    ids = seed(store)
    assign(store, ids[1], "LB", "AB", now=system_clock)
    assign(store, ids[2], "AB", "AB", now=system_clock)
    newest_first = all_pages(store, InboxFilter())
    unassigned = InboxFilter(assignee=UNASSIGNED)
    assert all_pages(store, unassigned) == [i for i in newest_first if i not in ids[1:3]]
    assert inbox_count(store, unassigned) == len(ids) - 2
    assert all_pages(store, InboxFilter(assignee="LB")) == [ids[1]]
    assert inbox_count(store, InboxFilter(assignee="LB")) == 1
    waiting = InboxFilter(assignee=UNASSIGNED, sort=SORT_WAITING)
    assert inbox_count(store, waiting) == len(all_pages(store, waiting))
    assert inbox_choices(store).assignees == ["AB", "LB"]


def test_search_says_when_more_messages_match_than_it_reads(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(store)  # "order late" in 20 messages, "rimborso" in 5
    monkeypatch.setattr("socialdesk.store.queries.search.SEARCH_MATCH_LIMIT", 5)
    assert search_hits_limit(store, "order")
    assert len(all_pages(store, InboxFilter(search="order"))) == 5
    assert not search_hits_limit(store, "rimborso")
    assert not search_hits_limit(store, "")
    assert not search_hits_limit(store, "!!!")


def test_full_text_query_quotes_every_word() -> None:
    assert full_text_query('rimborso" OR *') == '"rimborso" "OR"*'  # a word, not an operator
    assert full_text_query("order late") == '"order" "late"*'
    assert full_text_query("!!!") == ""


def test_operator_actions_change_the_store_and_are_audited(store: Engine) -> None:
    ids = seed(store, 3)
    set_status(store, ids[1], Status.RESOLVED, "AB", now=system_clock)
    assign(store, ids[1], "AB", "AB", now=system_clock)
    note_id = add_note(store, ids[1], "AB", "  called back  ", now=system_clock)
    view = conversation_view(store, ids[1])
    assert view is not None and view.status == "resolved" and view.assignee == "AB"
    with Session(store) as session:
        note = session.get(Note, note_id)
        assert note is not None and note.text == "called back" and note.initials == "AB"
        actions = [(a.actor, a.action) for a in session.exec(select(AuditEntry))]
    assert actions == [("AB", "set_status"), ("AB", "assign"), ("AB", "add_note")]
    card = customer_card(store, view.contact_id or 0)
    assert card is not None and [n.text for n in card.notes] == ["called back"]


def test_actions_on_a_missing_conversation_say_so(store: Engine) -> None:
    with pytest.raises(TriageError, match="no conversation 999"):
        set_status(store, 999, Status.OPEN, "AB", now=system_clock)
    ids = seed(store, 1)
    with pytest.raises(TriageError, match="needs some text"):
        add_note(store, ids[0], "AB", "   ", now=system_clock)


def test_merge_moves_handles_conversations_and_notes_to_one_card(store: Engine) -> None:
    ids = seed(store, 2)
    first, second = (conversation_view(store, i) for i in ids)
    assert first and second and first.contact_id and second.contact_id
    add_note(store, ids[1], "AB", "same person as Customer 0", now=system_clock)
    merge_contacts(store, second.contact_id, first.contact_id, "AB", now=system_clock)
    card = customer_card(store, first.contact_id)
    assert card is not None
    assert [h.username for h in card.handles] == ["user0", "user1"]
    assert sorted(c.id for c in card.conversations) == sorted(ids)
    assert [n.text for n in card.notes] == ["same person as Customer 0"]
    with pytest.raises(TriageError):
        merge_contacts(store, first.contact_id, first.contact_id, "AB", now=system_clock)


def test_reveal_returns_clear_text_and_writes_the_audit(store: Engine) -> None:
    ids = seed(store, 8)
    clear = reveal(store, ids[7], "AB", now=system_clock)
    assert list(clear.values()) == ["order late number 7"]
    with Session(store) as session:
        entry = session.exec(select(AuditEntry)).one()
    assert (entry.actor, entry.action, entry.target_id) == ("AB", "reveal", str(ids[7]))


def test_latest_change_moves_when_an_operator_acts(store: Engine) -> None:
    ids = seed(store, 2)
    before = latest_change(store)
    set_status(store, ids[0], Status.OPEN, "AB", now=system_clock)
    after = latest_change(store)
    assert before is not None and after is not None and after > before


QUEUE_VIEWS = (InboxFilter(), InboxFilter(status="new"), InboxFilter(channel="dm"))


def queue_page_sql(store: Engine, inbox_filter: InboxFilter) -> str:
    """The first page's query of a queue view, as the store's dialect runs it."""
    from socialdesk.store.queries.queue import page_statement

    statement = page_statement(inbox_filter, inbox_filter.status, None, None, 100)
    return str(statement.compile(dialect=store.dialect, compile_kwargs={"literal_binds": True}))


def sqlite_page_plan(store: Engine, sql: str) -> tuple[str, str]:
    """SQLite's plan of a page query in two parts: how the page's conversations are chosen
    (the `page` subquery) and how the chosen rows are read."""
    with store.connect() as connection:
        steps = list(connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    inside: set[int] = set()
    choice, reading = [], []
    for node, parent, _unused, detail in steps:
        if detail == "MATERIALIZE page" or parent in inside:
            inside.add(node)
            choice.append(detail)
        else:
            reading.append(detail)
    return " ".join(choice), " ".join(reading)


def test_queue_pages_use_an_index_not_a_scan(store: Engine) -> None:
    if store.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    seed(store, 30)
    for inbox_filter in QUEUE_VIEWS:
        choice, reading = sqlite_page_plan(store, queue_page_sql(store, inbox_filter))
        # the page is chosen by walking an index; only its 100 rows are sorted again
        assert "USE TEMP B-TREE FOR ORDER BY" not in choice, (inbox_filter, choice)
        plan = choice + " " + reading
        # the preview and the personal-data flag look up this conversation's messages; an
        # index on inbound messages by time once made SQLite walk all of them instead
        lookups = [step for step in plan.split("SEARCH")[1:] if step.startswith(" message")]
        assert lookups and all("conversation_id=?" in step for step in lookups), plan


def test_queue_pages_on_postgresql_read_the_queue_indexes(store: Engine) -> None:
    """Each view walks its own index backwards, and the preview (text, spans) and the
    personal-data flag look up the conversation's messages by index (PostgreSQL's plan,
    sequential scans off: a 30-conversation table is otherwise read whole, as it should
    be)."""
    if store.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's EXPLAIN; SQLite has its own test")
    seed(store, 30)
    indexes = ["ix_conversation_last_message", "ix_conversation_status_last_message",
               "ix_conversation_channel_last_message"]
    for inbox_filter, index in zip(QUEUE_VIEWS, indexes, strict=True):
        with Session(store) as session:
            session.exec(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(row[0] for row in session.exec(
                text(f"EXPLAIN {queue_page_sql(store, inbox_filter)}")))
        assert f"Index Scan Backward using {index} on conversation" in plan, plan
        assert "Seq Scan" not in plan, plan
        assert plan.count("Index Cond: (conversation_id = conversation.id)") == 3, plan


def test_search_reads_the_postgresql_index(store: Engine) -> None:
    """The search's expression must be the index's to the letter (migration 0007)."""
    if store.dialect.name != "postgresql":
        pytest.skip("the GIN index is PostgreSQL's; SQLite searches its FTS5 table")
    seed(store, 30)
    from sqlalchemy.dialects import postgresql

    from socialdesk.store.queries.search import search_message_ids

    with Session(store) as session:
        statement = search_message_ids(session, "città rimb")
        sql = str(statement.compile(dialect=postgresql.dialect(),
                                    compile_kwargs={"literal_binds": True}))
        session.exec(text("SET LOCAL enable_seqscan = off"))  # a tiny table is read whole
        plan = " ".join(row[0] for row in session.exec(text(f"EXPLAIN {sql}")))
    assert "message_fts_gin" in plan, plan
