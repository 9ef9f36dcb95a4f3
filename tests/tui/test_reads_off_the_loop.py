"""The desk never waits on the database in its event loop: reads run in thread workers,
here held back on purpose, and the keyboard goes on being served meanwhile."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from socialdesk.tui import workers
from socialdesk.tui.app import DeskApp
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from socialdesk.tui.screens.modals import HelpScreen
from socialdesk.tui.screens.queue_screen import InboxScreen
from socialdesk.tui.widgets.composer import ComposerModal
from tests.tui.desk_fixture import settle
from tests.tui.screen_text import filter_bar
from tests.tui.test_desk import SIZE, customers

GATE_SECONDS = 5.0
"""Long enough that a read on the event loop would show as a missed assertion, not a hang."""


class HeldRead:
    """A store read that waits until the test lets it go; the first `held` calls only."""

    def __init__(self, real: Any, held: int = 1) -> None:
        self.real = real
        self.held = held
        self.started = threading.Event()
        self.gate = threading.Event()
        self.finished = threading.Event()
        self._calls = 0
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self._calls += 1
            hold = self._calls <= self.held
        if hold:
            self.started.set()
            self.gate.wait(GATE_SECONDS)
        try:
            return self.real(*args, **kwargs)
        finally:
            if hold:
                self.finished.set()


async def test_help_opens_while_a_filter_page_is_read(
    desk_app: DeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        read = HeldRead(workers.inbox_page)
        monkeypatch.setattr(workers, "inbox_page", read)
        await pilot.press("s")  # status new: its first page is read in a worker
        assert read.started.wait(GATE_SECONDS)
        await pilot.press("question_mark")
        assert isinstance(desk_app.screen, HelpScreen)
        assert not read.finished.is_set()  # `?` was served while the read waited
        await pilot.press("escape")
        assert customers(desk_app) == ["Giulia", "Hostile", "Marco", "Anna", "Luca", "Sara"]
        read.gate.set()
        await settle(pilot)
        assert customers(desk_app) == ["Giulia", "Hostile", "Anna"]
        assert "status new" in filter_bar(desk_app)


async def test_a_page_read_for_an_older_filter_never_replaces_the_newer_one(
    desk_app: DeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        read = HeldRead(workers.inbox_page)
        monkeypatch.setattr(workers, "inbox_page", read)
        await pilot.press("s")  # new: held back
        assert read.started.wait(GATE_SECONDS)
        await pilot.press("s")  # open: read at once
        for _ in range(500):
            if customers(desk_app) == ["Marco", "Sara"]:
                break
            await pilot.pause(0.01)
        assert customers(desk_app) == ["Marco", "Sara"]
        read.gate.set()  # the page of "new" arrives last
        await settle(pilot)
        assert customers(desk_app) == ["Marco", "Sara"]
        assert "status open" in filter_bar(desk_app)


async def test_keys_typed_while_a_conversation_is_read_go_to_it(
    desk_app: DeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        read = HeldRead(workers.conversation_view)
        monkeypatch.setattr(workers, "conversation_view", read)
        await pilot.press("enter", "r")
        assert read.started.wait(GATE_SECONDS)
        assert isinstance(desk_app.screen, InboxScreen)  # the loop drew on, the keys wait
        assert not read.finished.is_set()
        read.gate.set()
        await settle(pilot)
        assert isinstance(desk_app.screen, ComposerModal)
        assert isinstance(desk_app.screen_stack[-2], ConversationScreen)
