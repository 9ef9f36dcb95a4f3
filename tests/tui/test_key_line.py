"""The key line at the bottom of the queue and the conversation (issue 17, point 4).

At 80 columns the conversation's line used to end `i Assign me   u`: reply, private, hide
and redirect were off the edge. The most used keys come first, whole, and `?` ends it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.context import Desk, Operator
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from socialdesk.tui.screens.modals import HelpScreen
from socialdesk.tui.widgets.key_hints import KeyHints
from tests.tui.desk_fixture import NOW, settle
from tests.tui.screen_text import screen_text


def key_line(app: DeskApp) -> str:
    return app.screen.query_one(KeyHints).render_line(0).text.rstrip()


def entries(line: str) -> list[str]:
    """`r Reply`, `1 2 3 Status`...: the line's entries, split at their two-space gaps."""
    return [entry.strip() for entry in line.split("   ") if entry.strip()]


class TestConversationKeyLine:
    async def test_at_80_columns_the_answering_keys_come_first_and_help_ends_it(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            line = key_line(desk_app)
            assert entries(line) == ["r Reply", "p Private", "g Redirect", "h Hide",
                                     "1 2 3 Status", "n Note", "? All keys"], line
            assert len(line) <= 80

    async def test_at_200_columns_every_key_is_on_the_line(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=(200, 50)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            shown = entries(key_line(desk_app))
            assert shown[:4] == ["r Reply", "p Private", "g Redirect", "h Hide"]
            for entry in ("i Assign me", "esc Back", "a Assign to", "c Verified",
                          "o History", "v Reveal", "m Merge", "u Unassign", "q Quit"):
                assert entry in shown
            assert shown[-1] == "? Help", "nothing left off: help needs no `All keys`"

    async def test_a_key_given_another_key_in_the_keymap_shows_that_key(
        self, desk_store: Engine
    ) -> None:
        app = make_app(Desk(engine=desk_store, operator=Operator("AB"), clock=lambda: NOW,
                            poll_seconds=0, keymap={"conversation.reply": "R"}))
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert entries(key_line(app))[0] == "R Reply"


class TestQueueKeyLine:
    @pytest.mark.parametrize("width", [80, 200])
    async def test_open_and_search_first_help_last(self, desk_app: DeskApp, width: int) -> None:
        async with desk_app.run_test(size=(width, 24)) as pilot:
            await settle(pilot)
            shown = entries(key_line(desk_app))
            assert shown[:5] == ["⏎ Open", "/ Search", "s Status", "m Mine", "l Late"]
            assert shown[-1] == ("? All keys" if width == 80 else "? Help")
            assert len(key_line(desk_app)) <= width


class TestHelpListsTheRest:
    async def test_help_lists_the_keys_left_off_the_line_most_used_first(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("enter", "question_mark")
            await settle(pilot)
            assert isinstance(desk_app.screen, HelpScreen)
            text = screen_text(desk_app)
            rows = [line.split("│")[0].strip() for line in text.splitlines() if "│" in line]
            assert rows[:4] == ["r", "p", "g", "h"]
            for hidden in ("Assign me", "Unassign", "Merge", "History", "Reveal", "Back"):
                assert hidden in text
