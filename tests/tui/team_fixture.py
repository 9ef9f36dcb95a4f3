"""Desks of a team on one store, each its own app, its own initials and desk id; and the
steps the team tests share (start a desk, open a conversation, press keys and wait), so
each test shows only what it checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import Engine
from textual.pilot import Pilot
from textual.widgets import Static

from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.context import Desk, Operator
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from tests.tui.desk_fixture import NOW, settle
from tests.tui.screen_text import widget_text
from tests.tui.test_desk_triage import open_row

NEVER = 3600.0
"""A timer that does not fire within a test: heartbeats then go only when the operator
moves (the tests drive them), and on PostgreSQL the change feed is the only news."""

WAIT_ROUNDS = 200
PAUSE = 0.05
"""A bounded wait: at most WAIT_ROUNDS * PAUSE seconds (10 s) for what another desk or the
change feed brings; it ends as soon as the condition holds."""

SIZE = (120, 30)

ROWS = {"Giulia": 0, "Hostile": 1, "Marco": 2, "Anna": 3, "Luca": 4, "Sara": 5}
"""Each customer's row in the fixed queue (newest first)."""


def team_desk(engine: Engine, initials: str, *, live: bool = False) -> DeskApp:
    """A desk whose heartbeats go at every move; with `live`, one that watches the store
    for changes (LISTEN on PostgreSQL, polling on SQLite, at `NEVER` seconds)."""
    return make_app(Desk(engine=engine, operator=Operator(initials), clock=lambda: NOW,
                         poll_seconds=NEVER if live else 0, heartbeat_seconds=NEVER))


@asynccontextmanager
async def two_desks(engine: Engine, *, live: bool = False
                    ) -> AsyncIterator[tuple[Pilot[None], Pilot[None]]]:
    """AB's desk and CD's, both running on `engine`, both settled."""
    first, second = team_desk(engine, "AB", live=live), team_desk(engine, "CD", live=live)
    async with first.run_test(size=SIZE) as ab, second.run_test(size=SIZE) as cd:
        await settle(ab)
        await settle(cd)
        yield ab, cd


@asynccontextmanager
async def running(app: DeskApp) -> AsyncIterator[Pilot[None]]:
    """`app` running at `SIZE` and settled: a test's keys then meet a desk that has read
    its queue, not one still loading it."""
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        yield pilot


@asynccontextmanager
async def in_conversation(app: DeskApp, customer: str) -> AsyncIterator[Pilot[None]]:
    """`app` running with `customer`'s conversation open, reached by the keys a user would
    press (`ROWS`), so what the test checks happens where the operator would be."""
    async with running(app) as pilot:
        await open_conversation(pilot, customer)
        yield pilot


async def open_conversation(pilot: Pilot[None], customer: str) -> None:
    """Open `customer`'s conversation on the desk `pilot` drives, and wait until it shows."""
    await open_row(desk_of(pilot), pilot, ROWS[customer])


async def press_and_settle(pilot: Pilot[None], *keys: str) -> None:
    """Press `keys`, then wait until the desk has done what they asked: its reads and
    writes run in workers, so an assertion made right after the keys would race them."""
    await pilot.press(*keys)
    await settle(pilot)


async def until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Wait until `condition` holds, `WAIT_ROUNDS` pauses at most, then fail saying `what`."""
    for _ in range(WAIT_ROUNDS):
        if condition():
            return
        await pilot.pause(PAUSE)
    raise AssertionError(f"not within {WAIT_ROUNDS * PAUSE:.0f} s: {what}")


def desk_of(pilot: Pilot[None]) -> DeskApp:
    """The desk a pilot drives, as the desk's own type."""
    assert isinstance(pilot.app, DeskApp)
    return pilot.app


def colleagues_line(app: DeskApp) -> str:
    """The conversation screen's line under the summary (empty when hidden)."""
    screen = app.screen
    assert isinstance(screen, ConversationScreen)
    line = screen.query_one("#colleagues", Static)
    return widget_text(line.content).strip() if line.display else ""


def notifications(app: DeskApp) -> list[str]:
    return [notice.message for notice in app._notifications]
