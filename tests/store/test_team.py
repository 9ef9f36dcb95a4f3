"""Team mode's store on both engines: presence, take-next and its holds (issue 19)."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine

from socialdesk.store.models import Status
from socialdesk.store.queries.queue import UNASSIGNED, InboxFilter
from socialdesk.store.team import heartbeat, holder, leave, present, release, take_next
from tests.store.team_seed import account, waiting

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
