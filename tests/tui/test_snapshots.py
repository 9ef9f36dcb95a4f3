"""What each main screen looks like, at 80×24 and 160×48, on the fixed store and clock.

Refresh with `pytest tests/tui/test_snapshots.py --snapshot-update` after looking at the
report; Textual is pinned exactly in the test extra because releases move pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from socialdesk.tui.app import DeskApp
from tests.tui.test_card_history import marco_with_history

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """Pictures on SQLite only: the Pilot tests run every screen on PostgreSQL as well."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.mark.parametrize("size", SIZES)
class TestSnapshots:
    def test_inbox(self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]) -> None:
        assert snap_compare(desk_app, terminal_size=size)

    def test_inbox_filtered_to_personal_data(
        self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]
    ) -> None:
        assert snap_compare(desk_app, terminal_size=size, press=["p"])

    def test_conversation_with_customer_card(
        self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]
    ) -> None:
        assert snap_compare(desk_app, terminal_size=size, press=["down", "down", "enter"])

    def test_customer_card_with_both_platforms_and_earlier_conversations(
        self, snap_compare: Any, desk_app: DeskApp, desk_store: Engine, size: tuple[int, int]
    ) -> None:
        marco_with_history(desk_store)
        assert snap_compare(desk_app, terminal_size=size, press=["down", "down", "enter"])

    def test_public_conversation_with_personal_data(
        self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]
    ) -> None:
        assert snap_compare(desk_app, terminal_size=size, press=["enter"])

    def test_dashboard(self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]) -> None:
        async def counted(pilot: Any) -> None:
            await pilot.press("d")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

        assert snap_compare(desk_app, terminal_size=size, run_before=counted)

    def test_help(self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]) -> None:
        assert snap_compare(desk_app, terminal_size=size, press=["question_mark"])
