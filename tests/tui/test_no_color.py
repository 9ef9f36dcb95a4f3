"""NO_COLOR: the desk draws plain but complete, with no colour at all (no-color.org)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from socialdesk.tui.app import make_app
from socialdesk.tui.context import Desk, Operator
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from tests.tui.desk_fixture import NOW, settle
from tests.tui.screen_text import queue_lines


async def test_no_color_draws_a_plain_but_complete_desk(
    desk_store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # before the app exists: Textual reads it then
    app = make_app(Desk(engine=desk_store, operator=Operator("AB", "Alex Bruno"),
                        clock=lambda: NOW, poll_seconds=0))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert app.no_color  # Textual's monochrome filter is on
        lines = queue_lines(app)
        assert len(lines) == 6
        assert all(line.startswith("● ") for line in lines)
        assert any("Giulia" in line for line in lines)
        await pilot.press("enter")  # the conversation draws too
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
