"""Text the desk used to cut at 80 columns, pictured whole (issue 17, point 7): the filter
summary with several filters and the empty result under it, the private composer's title
on a Facebook comment, the history picker's title. At 80×24 and 200×50.

Refresh with `pytest tests/tui/test_snapshots_text_fits.py --snapshot-update` after looking
at the report (see test_snapshots.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from socialdesk.tui.app import DeskApp
from tests.tui.test_card_history import marco_with_history
from tests.tui.test_snapshots import settled

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((200, 50), id="200x50")]

ANNA = ("down", "down", "down", "enter")
"""The fixture's Facebook comment, fourth in the queue."""
MARCO = ("down", "down", "enter")


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """Pictures on SQLite only, as in test_snapshots.py."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.mark.parametrize("size", SIZES)
class TestTextFits:
    def test_filter_summary_wrapped_over_an_empty_result(
        self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]
    ) -> None:
        """Resolved, personal data, past the SLA, longest waiting first: nothing matches."""
        assert snap_compare(desk_app, terminal_size=size,
                            run_before=settled("s", "s", "s", "p", "l", "o"))

    def test_private_composer_title_on_a_facebook_comment(
        self, snap_compare: Any, desk_app: DeskApp, size: tuple[int, int]
    ) -> None:
        assert snap_compare(desk_app, terminal_size=size, run_before=settled(*ANNA, "p"))

    def test_history_picker_title(
        self, snap_compare: Any, desk_app: DeskApp, desk_store: Engine, size: tuple[int, int]
    ) -> None:
        marco_with_history(desk_store)
        assert snap_compare(desk_app, terminal_size=size, run_before=settled(*MARCO, "o"))
