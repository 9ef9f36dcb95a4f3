"""Take next at the desk (issue 19 point 1): `t` opens the longest-waiting conversation
nobody holds, within the queue's filters; resolving it or quitting gives it back; two desks
pressing `t` at once never get the same one."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from socialdesk.store.team import heartbeat, holder, present, take_next
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from socialdesk.tui.screens.modals import ConfirmModal
from socialdesk.tui.screens.queue_screen import InboxScreen
from socialdesk.tui.team_mode import NOTHING_TO_TAKE
from socialdesk.tui.widgets.composer import ComposerModal
from tests.tui.desk_fixture import settle
from tests.tui.screen_text import queue_lines, screen_text
from tests.tui.team_fixture import (
    colleagues_line,
    desk_of,
    in_conversation,
    notifications,
    open_conversation,
    press_and_settle,
    running,
    team_desk,
    two_desks,
)
from tests.tui.test_colours_and_themes import make_overdue
from tests.tui.test_desk import conversation_of
from tests.tui.test_desk_triage import showing

ANNA = "Il pacco"
HOSTILE = "free"
GIULIA = "my order hasn't arrived"


async def taken_after(store: Engine, *keys: str) -> int:
    """The conversation AB's desk shows once `keys`, ending with `t`, are pressed on its
    queue: which one take next picks is what these tests check."""
    app = team_desk(store, "AB")
    async with running(app) as pilot:
        await press_and_settle(pilot, *keys)
        return showing(app)


async def test_t_takes_the_longest_waiting_then_the_next_once_resolved(
    desk_store: Engine
) -> None:
    """One manager (SQLite and PostgreSQL): Anna has waited 90 minutes unanswered, the
    hostile mention 15, Giulia 5; Marco and Sara are answered, Luca resolved."""
    app = team_desk(desk_store, "AB")
    anna, hostile = conversation_of(desk_store, ANNA).id, conversation_of(desk_store, HOSTILE).id
    async with running(app) as pilot:
        await press_and_settle(pilot, "t")
        assert showing(app) == anna
        assert holder(desk_store, anna or 0) is not None
        await press_and_settle(pilot, "3", "t")  # resolved: back to the team; the next in its place
        assert showing(app) == hostile
        assert holder(desk_store, anna or 0) is None
        assert holder(desk_store, hostile or 0) is not None


async def test_nothing_left_to_take_is_said_and_the_queue_stays(desk_store: Engine) -> None:
    app = team_desk(desk_store, "AB")
    async with running(app) as pilot:
        await press_and_settle(pilot, "s", "s", "s")  # status resolved: nothing there waits
        await press_and_settle(pilot, "t")
        assert isinstance(app.screen, InboxScreen)
        assert NOTHING_TO_TAKE in notifications(app)


async def test_take_next_keeps_to_the_queue_filters(desk_store: Engine) -> None:
    """Filtered to personal data in public, the oldest unanswered there is Giulia's."""
    assert await taken_after(desk_store, "p", "t") == conversation_of(desk_store, GIULIA).id


async def test_quitting_gives_back_what_the_desk_took(desk_store: Engine) -> None:
    app = team_desk(desk_store, "AB")
    async with running(app) as pilot:
        await press_and_settle(pilot, "t")
        taken = showing(app)
        assert holder(desk_store, taken) is not None
        await pilot.press("escape", "q")
        await pilot.pause()
    assert holder(desk_store, taken) is None
    assert present(desk_store) == []


async def test_replying_where_a_colleague_took_the_conversation_asks_first(
    desk_store: Engine
) -> None:
    taken = take_next(desk_store, "cd-desk", "CD")
    assert taken == conversation_of(desk_store, ANNA).id
    app = team_desk(desk_store, "AB")
    async with in_conversation(app, "Anna") as pilot:
        await press_and_settle(pilot, "r")
        assert isinstance(app.screen, ConfirmModal)
        assert "CD is answering this: answer anyway?" in screen_text(app)
        await press_and_settle(pilot, "n")
        assert isinstance(app.screen, ConversationScreen)
        await press_and_settle(pilot, "r")
        await press_and_settle(pilot, "y")
        assert isinstance(app.screen, ComposerModal)


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
async def test_two_desks_pressing_t_at_once_never_get_the_same_conversation(
    desk_store: Engine
) -> None:
    waiting = {conversation_of(desk_store, text).id for text in (ANNA, HOSTILE)}
    async with two_desks(desk_store) as (ab, cd):
        await ab.press("t")
        await cd.press("t")
        await settle(ab)
        await settle(cd)
        taken = {showing(desk_of(ab)), showing(desk_of(cd))}
        assert taken == waiting  # the two longest-waiting, one each
        holders = {holder(desk_store, conversation).initials  # type: ignore[union-attr]
                   for conversation in taken}
        assert holders == {"AB", "CD"}


async def test_help_lists_take_next_on_the_queue_and_in_a_conversation(
    desk_store: Engine
) -> None:
    app = team_desk(desk_store, "AB")
    async with running(app) as pilot:
        await press_and_settle(pilot, "question_mark")
        assert "Take next" in screen_text(app)
        await pilot.press("escape")
        await open_conversation(pilot, "Anna")
        await press_and_settle(pilot, "question_mark")
        assert "Take next" in screen_text(app)


async def test_take_next_among_the_late_ones_compares_with_the_desks_clock(
    desk_store: Engine
) -> None:
    """`l`: only conversations past their first-response due time; Anna waits longer,
    but only Giulia is late."""
    make_overdue(desk_store, GIULIA)
    assert await taken_after(desk_store, "l", "t") == conversation_of(desk_store, GIULIA).id


async def test_take_next_within_a_search_takes_from_what_it_found(desk_store: Engine) -> None:
    app = team_desk(desk_store, "AB")
    async with running(app) as pilot:
        await press_and_settle(pilot, "slash", *"click", "enter")
        await press_and_settle(pilot, "t")
        assert showing(app) == conversation_of(desk_store, HOSTILE).id


async def test_a_conversation_a_colleague_took_and_left_still_shows_who_took_it(
    desk_store: Engine
) -> None:
    """CD's hold outlives their moving on (`HOLD_SECONDS`): the queue shows CD on it and
    the conversation says so."""
    assert take_next(desk_store, "cd-desk", "CD") == conversation_of(desk_store, ANNA).id
    heartbeat(desk_store, "cd-desk", "CD", conversation_id=None, typing=False)
    app = team_desk(desk_store, "AB")
    async with running(app) as pilot:
        anna = next(line for line in queue_lines(app) if "Anna" in line)
        assert " CD " in anna
        await open_conversation(pilot, "Anna")
        assert colleagues_line(app) == "CD took this"
