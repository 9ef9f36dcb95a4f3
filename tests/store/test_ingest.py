"""Ingest on SQLite and PostgreSQL: exactly once, threaded, with the cursor in the same commit."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from connectors.base import Channel, Direction, PullPage, QuarantinedItem
from socialdesk.clock import system_clock
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.models import (
    Account,
    Contact,
    Conversation,
    Handle,
    Message,
    QuarantineEntry,
    Status,
    SyncCursor,
)
from tests.support import item


@pytest.fixture
def x_account(store: Engine) -> Account:
    return ensure_account(store, "brand-x", "x", now=system_clock())


@pytest.fixture
def fb_account(store: Engine) -> Account:
    return ensure_account(store, "brand-fb", "facebook", now=system_clock())


def ingest(  # type: ignore[no-untyped-def]
    store: Engine, account: Account, *items, stream="mentions", cursor=None, **kw
):
    with Session(store) as session:
        page = PullPage(stream, list(items), cursor=cursor, **kw)
        return ingest_page(session, account, page, now=system_clock())


def conversations(store: Engine) -> list[Conversation]:
    with Session(store) as session:
        return list(session.exec(select(Conversation).order_by(col(Conversation.id))).all())


def count(store: Engine, model: type) -> int:
    with Session(store) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def cursor_of(store: Engine, account: Account, stream: str) -> str | None:
    with Session(store) as session:
        row = session.exec(
            select(SyncCursor).where(
                SyncCursor.account_id == account.id, SyncCursor.stream == stream
            )
        ).first()
        return row.cursor if row else None


def test_the_same_page_twice_stores_each_message_once(store: Engine, x_account: Account) -> None:
    page = [item("101", minutes=1), item("102", minutes=2, author="u2")]
    first = ingest(store, x_account, *page, cursor="102")
    second = ingest(store, x_account, *page, cursor="102")
    assert len(first.new_message_ids) == 2
    assert second.new_message_ids == [] and second.duplicates == 2
    assert count(store, Message) == 2
    assert len(conversations(store)) == 2


def test_cursor_advances_with_its_items_and_not_without_them(
    store: Engine, x_account: Account
) -> None:
    ingest(store, x_account, item("101"), cursor=None)
    assert cursor_of(store, x_account, "mentions") is None
    ingest(store, x_account, item("102"), cursor="102")
    assert cursor_of(store, x_account, "mentions") == "102"


def test_a_failing_page_stores_neither_items_nor_cursor(store: Engine, x_account: Account) -> None:
    """The cursor shares the items' transaction: a crash mid-page loses and doubles nothing.
    The database itself refuses the cursor's write, the page's last (ingest writes it on
    the driver's connection, below SQLAlchemy's events)."""
    with store.begin() as connection:
        for statement in POWER_CUT[store.dialect.name]:
            connection.exec_driver_sql(statement)
    try:
        with pytest.raises(Exception, match="power cut"):
            ingest(store, x_account, item("101"), item("102", author="u2"), cursor="102")
    finally:
        with store.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER power_cut"
                                       + (" ON sync_cursor" if store.dialect.name != "sqlite"
                                          else ""))
    assert count(store, Message) == 0
    assert count(store, Conversation) == 0
    assert cursor_of(store, x_account, "mentions") is None


POWER_CUT = {
    "sqlite": ["CREATE TRIGGER power_cut BEFORE INSERT ON sync_cursor "
               "BEGIN SELECT RAISE(ABORT, 'power cut'); END"],
    "postgresql": ["CREATE FUNCTION power_cut() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$BEGIN RAISE EXCEPTION 'power cut'; END$$",
                   "CREATE TRIGGER power_cut BEFORE INSERT ON sync_cursor "
                   "FOR EACH ROW EXECUTE FUNCTION power_cut()"],
}


def test_an_x_reply_joins_the_conversation_of_the_post_it_answers(
    store: Engine, x_account: Account
) -> None:
    ingest(store, x_account, item("100", thread_key="100", minutes=0))
    ingest(store, x_account, item("200", thread_key="100", parent="100", author="u2", minutes=5))
    ingest(store, x_account, item("300", thread_key="999", parent="200", author="u3", minutes=9))
    assert len(conversations(store)) == 1


def test_reply_and_parent_in_one_page_share_a_conversation(
    store: Engine, x_account: Account
) -> None:
    ingest(store, x_account, item("200", parent="100", thread_key="x", minutes=5),
           item("100", thread_key="y", minutes=0))
    assert len(conversations(store)) == 1


def test_x_dms_form_one_conversation_per_dm_conversation(
    store: Engine, x_account: Account
) -> None:
    dms = [
        item("1", channel=Channel.DM, thread_key="5-9", author="5", minutes=1),
        item("2", channel=Channel.DM, thread_key="5-9", author="5", minutes=2),
        item("3", channel=Channel.DM, thread_key="6-9", author="6", minutes=3),
    ]
    ingest(store, x_account, *dms, stream="dms")
    found = conversations(store)
    assert [c.thread_key for c in found] == ["5-9", "6-9"]
    assert all(c.visibility == "private" and c.channel == "dm" for c in found)


def test_facebook_replies_join_their_top_level_comment(
    store: Engine, fb_account: Account
) -> None:
    ingest(store, fb_account,
           item("p_c1", channel=Channel.COMMENT, thread_key="p_c1", minutes=0),
           item("p_c2", channel=Channel.COMMENT, thread_key="p_c1", parent="p_c1", author="u2",
                minutes=3),
           item("p_c3", channel=Channel.COMMENT, thread_key="p_c3", author="u3", minutes=4),
           stream="feed")
    assert [c.thread_key for c in conversations(store)] == ["p_c1", "p_c3"]


def test_our_own_echo_is_stored_outbound_and_is_never_new_work(
    store: Engine, x_account: Account
) -> None:
    ingest(store, x_account, item("1", channel=Channel.DM, thread_key="5-9", author="9",
                                  direction=Direction.OUTBOUND), stream="dms")
    (conversation,) = conversations(store)
    assert conversation.status != Status.NEW
    assert count(store, Contact) == 0
    with Session(store) as session:
        assert session.exec(select(Message.direction)).one() == "outbound"


def test_a_new_inbound_message_reopens_a_resolved_conversation(
    store: Engine, x_account: Account
) -> None:
    ingest(store, x_account, item("1", channel=Channel.DM, thread_key="5-9", author="5"),
           stream="dms")
    with Session(store) as session:
        conversation = session.exec(select(Conversation)).one()
        conversation.status = Status.RESOLVED.value
        session.add(conversation)
        session.commit()
    ingest(store, x_account, item("2", channel=Channel.DM, thread_key="5-9", author="5",
                                  minutes=30), stream="dms")
    (conversation,) = conversations(store)
    assert conversation.status == Status.OPEN


def test_first_response_time_is_the_first_outbound_after_the_first_inbound(
    store: Engine, x_account: Account
) -> None:
    dm = {"channel": Channel.DM, "thread_key": "5-9"}
    ingest(store, x_account,
           item("1", author="9", direction=Direction.OUTBOUND, minutes=0, **dm),
           item("2", author="5", minutes=10, **dm),
           item("4", author="9", direction=Direction.OUTBOUND, minutes=25, **dm),
           stream="dms")
    ingest(store, x_account, item("3", author="9", direction=Direction.OUTBOUND, minutes=15, **dm),
           stream="dms")
    (conversation,) = conversations(store)
    assert conversation.opened_at is not None and conversation.first_response_at is not None
    assert (conversation.first_response_at - conversation.opened_at).total_seconds() == 5 * 60
    assert conversation.last_outbound_at is not None
    assert conversation.last_outbound_at.minute == 25


def test_one_contact_per_platform_user_across_conversations(
    store: Engine, x_account: Account
) -> None:
    ingest(store, x_account, item("1", author="5"), item("2", author="5", minutes=1),
           item("3", channel=Channel.DM, thread_key="5-9", author="5", minutes=2))
    assert count(store, Contact) == 1
    assert count(store, Handle) == 1
    contact_ids = {c.contact_id for c in conversations(store)}
    assert len(contact_ids) == 1 and None not in contact_ids


def test_quarantined_payloads_are_kept_whole_and_do_not_stop_the_page(
    store: Engine, x_account: Account
) -> None:
    bad = QuarantinedItem(reason="created_at is not a date", raw={"id": "7", "created_at": "??"},
                          external_id="7")
    report = ingest(store, x_account, item("1"), quarantined=[bad], cursor="1")
    assert report.quarantined == 1 and len(report.new_message_ids) == 1
    with Session(store) as session:
        entry = session.exec(select(QuarantineEntry)).one()
    assert entry.raw == {"id": "7", "created_at": "??"}
    assert cursor_of(store, x_account, "mentions") == "1"


def test_created_at_comes_back_as_aware_utc(store: Engine, x_account: Account) -> None:
    ingest(store, x_account, item("1", minutes=7))
    with Session(store) as session:
        created = session.exec(select(Message.created_at)).one()
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0
    assert created.minute == 7


def test_an_answer_seen_on_the_platform_moves_a_new_conversation_to_open(
    store: Engine, x_account: Account
) -> None:
    dm = {"channel": Channel.DM, "thread_key": "5-9"}
    ingest(store, x_account, item("1", author="5", minutes=0, **dm), stream="dms")
    assert conversations(store)[0].status == Status.NEW
    ingest(store, x_account, item("2", author="9", direction=Direction.OUTBOUND, minutes=3, **dm),
           stream="dms")
    assert conversations(store)[0].status == Status.OPEN


def test_an_older_inbound_arriving_late_recomputes_the_first_response(
    store: Engine, x_account: Account
) -> None:
    """Pages can arrive out of order: the first response is measured from the first inbound."""
    dm = {"channel": Channel.DM, "thread_key": "5-9"}
    ingest(store, x_account,
           item("3", author="5", minutes=20, **dm),
           item("2", author="9", direction=Direction.OUTBOUND, minutes=10, **dm),
           item("4", author="9", direction=Direction.OUTBOUND, minutes=30, **dm), stream="dms")
    ingest(store, x_account, item("1", author="5", minutes=5, **dm), stream="dms")
    (conversation,) = conversations(store)
    assert conversation.opened_at is not None and conversation.first_response_at is not None
    assert conversation.opened_at.minute == 5
    assert conversation.first_response_at.minute == 10
    assert conversation.status == Status.OPEN


def test_stored_times_compare_equal_to_the_same_instant_in_a_query(
    store: Engine, x_account: Account
) -> None:
    """On SQLite times are text: ingest must write them exactly as SQLAlchemy binds them,
    or `created_at >= :moment` silently misses rows at the boundary."""
    moment = item("1", minutes=7).created_at
    ingest(store, x_account, item("1", minutes=7))
    with Session(store) as session:
        same = session.exec(select(func.count()).select_from(Message)
                            .where(Message.created_at == moment)).one()
        not_after = session.exec(select(func.count()).select_from(Message)
                                 .where(Message.created_at <= moment)).one()
    assert (same, not_after) == (1, 1)


def test_an_automated_message_of_ours_is_no_answer(store: Engine, x_account: Account) -> None:
    """An acknowledgement leaves the conversation new and its first response open."""
    dm = {"channel": Channel.DM, "thread_key": "5-9"}
    ingest(store, x_account, item("1", author="5", minutes=0, **dm), stream="dms")
    with Session(store) as session:
        ingest_page(session, x_account, PullPage("outbox", [
            item("2", author="9", direction=Direction.OUTBOUND, minutes=1, **dm)]),
            automated=True, now=system_clock())
    (conversation,) = conversations(store)
    assert conversation.status == Status.NEW
    assert conversation.first_response_at is None and conversation.last_outbound_at is None
    assert conversation.last_message_at is not None and conversation.last_message_at.minute == 1
    ingest(store, x_account, item("3", author="9", direction=Direction.OUTBOUND, minutes=9, **dm),
           stream="dms")
    (conversation,) = conversations(store)
    assert conversation.status == Status.OPEN
    assert conversation.first_response_at is not None
    assert conversation.first_response_at.minute == 9
