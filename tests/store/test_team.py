"""Team mode's store on both engines: presence, take-next and its holds (issue 19)."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from connectors.base import PullPage
from socialdesk.clock import system_clock
from socialdesk.store.db import open_store
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.models import Message, Status
from socialdesk.store.queries.queue import UNASSIGNED, InboxFilter
from socialdesk.store.team import heartbeat, holder, leave, present, release, take_next
from tests.store.team_seed import account, waiting
from tests.support import item

GONE = 0.0
"""A presence TTL under which every desk heard from before this statement is gone."""


def desk() -> str:
    return uuid.uuid4().hex


def test_take_next_hands_out_the_longest_waiting_unanswered_conversation(store: Engine) -> None:
    brand = account(store)
    later = waiting(store, brand, 30)
    waiting(store, brand, 5, status=Status.RESOLVED)
    waiting(store, brand, 1, answered=True)
    oldest = waiting(store, brand, 10, status=Status.OPEN)
    ab = desk()
    assert take_next(store, ab, "AB") == oldest
    assert take_next(store, ab, "AB") == later
    assert take_next(store, ab, "AB") is None


def test_two_desks_never_get_the_same_conversation(store: Engine) -> None:
    brand = account(store)
    first, second = waiting(store, brand, 1), waiting(store, brand, 2)
    assert take_next(store, desk(), "AB") == first
    assert take_next(store, desk(), "CD") == second
    assert take_next(store, desk(), "EF") is None


def test_take_next_honours_the_desks_filters(store: Engine) -> None:
    brand_x = account(store)
    brand_fb = account(store, "brand-fb", "facebook")
    waiting(store, brand_x, 1)
    dm = waiting(store, brand_x, 2, channel="dm")
    facebook = waiting(store, brand_fb, 3, channel="comment")
    assert take_next(store, desk(), "AB", InboxFilter(channel="dm")) == dm
    assert take_next(store, desk(), "AB", InboxFilter(account="brand-fb")) == facebook
    assert take_next(store, desk(), "AB", InboxFilter(status=Status.RESOLVED)) is None


def test_take_next_honours_the_desks_search(store: Engine) -> None:
    brand = ensure_account(store, "brand-x", "x", now=system_clock())
    with Session(store) as session:
        ingest_page(session, brand, PullPage(stream="mentions", items=[
            item("1", text="where is my parcel", author="u1"),
            item("2", text="I want a refund now", author="u2", minutes=1)]),
            now=system_clock())
        refund = session.exec(select(Message.conversation_id)
                              .where(Message.external_id == "2")).one()
    assert take_next(store, desk(), "AB", InboxFilter(search="refund")) == refund
    assert take_next(store, desk(), "AB", InboxFilter(search="refund")) is None


def test_someone_elses_assigned_conversation_is_left_to_them(store: Engine) -> None:
    brand = account(store)
    theirs = waiting(store, brand, 1, assignee="CD")
    mine = waiting(store, brand, 2, assignee="AB")
    nobodys = waiting(store, brand, 3)
    assert take_next(store, desk(), "AB") == mine
    assert take_next(store, desk(), "AB") == nobodys
    assert take_next(store, desk(), "AB") is None
    assert take_next(store, desk(), "AB", InboxFilter(assignee="CD")) == theirs
    assert take_next(store, desk(), "AB", InboxFilter(assignee=UNASSIGNED)) is None


def test_a_conversation_open_on_another_desk_is_not_handed_out(store: Engine) -> None:
    brand = account(store)
    open_there = waiting(store, brand, 1)
    free = waiting(store, brand, 2)
    heartbeat(store, desk(), "CD", conversation_id=open_there, typing=True)
    assert take_next(store, desk(), "AB") == free


def test_released_and_left_conversations_can_be_taken_again(store: Engine) -> None:
    brand = account(store)
    conversation = waiting(store, brand, 1)
    ab, cd = desk(), desk()
    assert take_next(store, ab, "AB") == conversation
    assert holder(store, conversation) is not None
    release(store, ab, conversation)
    assert holder(store, conversation) is None
    assert take_next(store, cd, "CD") == conversation
    leave(store, cd)
    assert [p.desk_id for p in present(store)] == [ab]
    assert take_next(store, ab, "AB") == conversation


def test_take_next_gives_back_the_one_taken_before(store: Engine) -> None:
    brand = account(store)
    first, second = waiting(store, brand, 1), waiting(store, brand, 2)
    ab = desk()
    assert take_next(store, ab, "AB") == first
    assert take_next(store, ab, "AB", give_back=first) == second
    assert holder(store, first) is None
    holding = holder(store, second)
    assert holding is not None and holding.desk_id == ab and holding.conversation_id == second
    assert take_next(store, desk(), "CD") == first


def test_take_next_gives_back_even_when_nothing_is_left(store: Engine) -> None:
    brand = account(store)
    only = waiting(store, brand, 1)
    ab = desk()
    assert take_next(store, ab, "AB") == only
    assert take_next(store, ab, "AB", give_back=only) is None
    assert holder(store, only) is None
    assert [p.conversation_id for p in present(store)] == [None]
    assert take_next(store, desk(), "CD") == only


def test_take_next_outside_the_waiting_statuses_still_gives_back(store: Engine) -> None:
    brand = account(store)
    only = waiting(store, brand, 1)
    ab = desk()
    assert take_next(store, ab, "AB") == only
    assert take_next(store, ab, "AB", InboxFilter(status=Status.RESOLVED), give_back=only) is None
    assert holder(store, only) is None


def test_take_next_may_hand_back_a_lapsed_hold_it_gives_back(store: Engine) -> None:
    brand = account(store)
    only = waiting(store, brand, 1)
    ab = desk()
    assert take_next(store, ab, "AB", hold_seconds=-1) == only
    assert take_next(store, ab, "AB", give_back=only) == only
    holding = holder(store, only)
    assert holding is not None and holding.desk_id == ab
    assert take_next(store, desk(), "CD") is None


def test_a_hold_lapses_without_a_heartbeat_in_its_conversation(store: Engine) -> None:
    brand = account(store)
    conversation = waiting(store, brand, 1)
    ab = desk()
    assert take_next(store, ab, "AB", hold_seconds=-1) == conversation
    heartbeat(store, ab, "AB", conversation_id=None, typing=False)
    assert holder(store, conversation) is None
    assert take_next(store, desk(), "CD") == conversation


def test_a_heartbeat_in_the_conversation_renews_its_hold(store: Engine) -> None:
    brand = account(store)
    renewed, left = waiting(store, brand, 1), waiting(store, brand, 2)
    ab = desk()
    assert take_next(store, ab, "AB", hold_seconds=0.3) == renewed
    assert take_next(store, ab, "AB", hold_seconds=0.3) == left
    heartbeat(store, ab, "AB", conversation_id=renewed, typing=True, hold_seconds=600)
    time.sleep(0.4)  # the database's clock passes the first expiry
    heartbeat(store, ab, "AB", conversation_id=renewed, typing=True)
    holding = holder(store, renewed)
    assert holding is not None and holding.desk_id == ab and holding.typing
    assert holder(store, left) is None
    assert take_next(store, desk(), "CD") == left


def test_presence_shows_each_desk_and_goes_with_the_ttl(store: Engine) -> None:
    brand = account(store)
    conversation = waiting(store, brand, 1)
    ab, cd = desk(), desk()
    heartbeat(store, ab, "AB", conversation_id=conversation, typing=True)
    heartbeat(store, cd, "CD", conversation_id=None, typing=False)
    shown = present(store)
    assert [(p.initials, p.conversation_id, p.typing) for p in shown] == [
        ("AB", conversation, True), ("CD", None, False)]
    assert all(p.seen_at.tzinfo is not None for p in shown)
    assert present(store, presence_ttl=GONE) == []


def test_a_crashed_desks_hold_is_free_once_its_presence_is_gone(store: Engine) -> None:
    brand = account(store)
    conversation = waiting(store, brand, 1)
    crashed = desk()
    assert take_next(store, crashed, "AB") == conversation
    assert holder(store, conversation, presence_ttl=GONE) is None
    assert take_next(store, desk(), "CD", presence_ttl=GONE) == conversation


def test_whether_a_hold_counts_is_read_from_the_hold_itself(store: Engine) -> None:
    """A taker whose statement began before the holder's first take committed cannot see
    the holder's new presence row; the hold must still count (PostgreSQL's snapshot)."""
    brand = account(store)
    conversation = waiting(store, brand, 1)
    ab = desk()
    assert take_next(store, ab, "AB") == conversation
    with store.begin() as connection:  # what that taker's snapshot shows: no presence yet
        connection.execute(text("DELETE FROM desk_presence"))
    assert take_next(store, desk(), "CD") is None


def test_a_heartbeat_clears_what_gone_desks_left(store: Engine) -> None:
    brand = account(store)
    conversation = waiting(store, brand, 1)
    crashed, cd = desk(), desk()
    assert take_next(store, crashed, "AB") == conversation
    heartbeat(store, cd, "CD", conversation_id=None, typing=False, presence_ttl=GONE)
    assert [p.initials for p in present(store)] == ["CD"]
    assert holder(store, conversation) is None
    assert take_next(store, cd, "CD") == conversation


DESKS = 8
PROCESSES = 4
CONVERSATIONS = 60


def test_desks_taking_at_once_never_get_the_same_conversation(store: Engine) -> None:
    """Eight desks, each on its own thread and connection, take until nothing is left: every
    conversation is handed out exactly once (PostgreSQL: SKIP LOCKED and the hold's key;
    SQLite: one writer at a time)."""
    brand = account(store)
    expected = {waiting(store, brand, minutes) for minutes in range(CONVERSATIONS)}
    start = threading.Barrier(DESKS)

    def take_all(initials: str) -> list[int]:
        own, taken = desk(), []
        start.wait()
        while (conversation := take_next(store, own, initials)) is not None:
            taken.append(conversation)
        return taken

    with ThreadPoolExecutor(DESKS) as pool:
        handed = [conversation for taken in pool.map(take_all, [f"D{n}" for n in range(DESKS)])
                  for conversation in taken]
    assert sorted(handed) == sorted(expected), "taken twice, or never"


def test_the_team_migration_downgrades_and_upgrades_again(store: Engine) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from socialdesk.store.db import alembic_config

    command.downgrade(alembic_config(store), "0012")
    assert "conversation_hold" not in inspect(store).get_table_names()
    command.upgrade(alembic_config(store), "head")
    conversation = waiting(store, account(store), 1)
    assert take_next(store, desk(), "AB") == conversation


def _take_all_in_a_process(url: str, initials: str, start: Any, out: Any) -> None:
    """A desk in a process of its own: take until nothing is left, report what it got."""
    engine = open_store(url)
    own, taken = desk(), []
    start.wait()
    while (conversation := take_next(engine, own, initials)) is not None:
        taken.append(conversation)
    out.put(taken)
    engine.dispose()


@pytest.mark.parametrize("store_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_desks_in_separate_processes_never_get_the_same_conversation(
    store_url: str, store: Engine
) -> None:
    brand = account(store)
    expected = {waiting(store, brand, minutes) for minutes in range(CONVERSATIONS)}
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_take_all_in_a_process,
                               args=(store_url, f"P{n}", start, out))
               for n in range(PROCESSES)]
    for worker in workers:
        worker.start()
    handed = [conversation for _ in workers for conversation in out.get(timeout=120)]
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES
    assert sorted(handed) == sorted(expected), "taken twice, or never"


@pytest.mark.parametrize("inbox", [InboxFilter(), InboxFilter(status=Status.NEW)])
def test_take_next_walks_the_waiting_index_in_its_order(store: Engine, inbox: InboxFilter
                                                        ) -> None:
    """PostgreSQL: take-next's scan reads `ix_conversation_waiting_for_answer` in order,
    never sorting the waiting conversations. (SQLite's planner picks the status index and
    sorts the new and open ones: one manager's few thousand, fast enough.)"""
    if store.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan; SQLite's is in the docstring")
    from socialdesk.store.take_next import _candidate

    brand = account(store)
    for minutes in range(20):
        waiting(store, brand, minutes, answered=minutes % 2 == 0)
    statement = _candidate(store, inbox, None, 15.0, "d", "AB")
    sql = str(statement.compile(store, compile_kwargs={"literal_binds": True}))
    with store.begin() as connection:
        connection.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table
        plan = "\n".join(row[0] for row in connection.execute(text(f"EXPLAIN {sql}")))
    assert "Index Scan using ix_conversation_waiting_for_answer" in plan, plan
    assert "Sort" not in plan, plan
