"""What each main screen looks like, at 80×24 and 160×48, on the fixed store and clock.

Refresh with `pytest tests/tui/test_snapshots.py --snapshot-update` after looking at the
report; Textual is pinned exactly in the test extra because releases move pixels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from socialdesk.tui.app import DeskApp
from tests.tui.desk_fixture import settle
from tests.tui.test_card_history import marco_with_history

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


def settled(*keys: str) -> Callable[[Any], Awaitable[None]]:
    """Press `keys` once the first screen is read, then wait for what they read: the
    picture is of the desk at rest, never of a read in flight."""

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """Pictures on SQLite only: the Pilot tests run every screen on PostgreSQL as well."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.mark.parametrize("size", SIZES)
class TestSnapshots:
    def test_inbox(self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]) -> None:
        assert snap_compare(desk_app, terminal_size=size, run_before=settled())

    def test_inbox_filtered_to_personal_data(
        self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]
    ) -> None:
        assert snap_compare(desk_app, terminal_size=size, run_before=settled("p"))

    def test_conversation_with_customer_card(
        self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]
    ) -> None:
        assert snap_compare(desk_app, terminal_size=size,
                            run_before=settled("down", "down", "enter"))

    def test_customer_card_with_both_platforms_and_earlier_conversations(
        self, snap_compare: Any, desk_app: DeskApp, desk_store: Engine, size: tuple[int, int]
    ) -> None:
        marco_with_history(desk_store)
        assert snap_compare(desk_app, terminal_size=size,
                            run_before=settled("down", "down", "enter"))

    def test_public_conversation_with_personal_data(
        self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]
    ) -> None:
        assert snap_compare(desk_app, terminal_size=size, run_before=settled("enter"))

    def test_dashboard(self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]) -> None:
        assert snap_compare(desk_app, terminal_size=size, run_before=settled("d"))

    def test_help(self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]) -> None:
        assert snap_compare(desk_app, terminal_size=size, run_before=settled("question_mark"))
