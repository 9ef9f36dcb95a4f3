"""Pictures of who is where (issue 19 point 2) at 80×24: a colleague typing in Anna's
conversation and another reading Marco's, as the queue's `now` column shows them, and
Anna's conversation saying `CD is answering this` under its summary.

Refresh with `pytest tests/tui/test_team_snapshots.py --snapshot-update` after looking at
the report.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from socialdesk.store.team import heartbeat
from socialdesk.tui.app import DeskApp
from tests.tui.desk_fixture import settle
from tests.tui.team_fixture import team_desk
from tests.tui.test_desk import conversation_of

SIZE = (80, 24)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """Pictures on SQLite only: the Pilot tests run on PostgreSQL as well."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def team_app(desk_store: Engine) -> DeskApp:
    return team_desk(desk_store, "AB")


def colleagues_then(store: Engine, *keys: str) -> Callable[[Any], Awaitable[None]]:
    """CD types in Anna's conversation and EF reads Marco's; the desk hears of it at a
    heartbeat, then `keys` are pressed."""

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        heartbeat(store, "cd-desk", "CD",
                  conversation_id=conversation_of(store, "Il pacco").id, typing=True)
        heartbeat(store, "ef-desk", "EF",
                  conversation_id=conversation_of(store, "refund for booking").id,
                  typing=False)
        pilot.app.heartbeats.tick()
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_queue_shows_who_is_on_which_conversation(snap_compare: Any, team_app: DeskApp,
                                                   desk_store: Engine) -> None:
    assert snap_compare(team_app, terminal_size=SIZE,
                        run_before=colleagues_then(desk_store))


def test_conversation_says_a_colleague_is_answering_it(snap_compare: Any, team_app: DeskApp,
                                                        desk_store: Engine) -> None:
    assert snap_compare(team_app, terminal_size=SIZE,
                        run_before=colleagues_then(desk_store, "down", "down", "down",
                                                   "enter"))
