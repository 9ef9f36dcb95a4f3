"""Pictures for issue 17, points 3, 4, 8 and 9: the key line (most used keys first, `?`
last), the status colours and the cursor's row, the desk's time zone, and a light theme;
at 80×24 and 200×50. A late first response (Giulia's, with personal data) shows `+1h`
beside her `PII` badge, and the conversation names its due time.

Refresh with `pytest tests/tui/test_snapshots_keys_colours_times.py --snapshot-update`
after looking at the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.context import Desk, Operator
from tests.tui.desk_fixture import NOW
from tests.tui.test_colours_and_themes import make_overdue
from tests.tui.test_snapshots import settled

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((200, 50), id="200x50")]


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """Pictures on SQLite only: the Pilot tests run every screen on PostgreSQL as well."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def late_store(desk_store: Engine) -> Engine:
    make_overdue(desk_store, "call me at +39 347")
    return desk_store


def light_desk(store: Engine) -> DeskApp:
    return make_app(Desk(engine=store, operator=Operator("AB", "Alex Bruno"),
                         clock=lambda: NOW, poll_seconds=0, theme="textual-light"))


@pytest.mark.parametrize("size", SIZES)
class TestDeskDay:
    @pytest.mark.usefixtures("late_store")
    def test_queue_cursor_on_marco(self, snap_compare: Any, desk_app: DeskApp,
                                   size: tuple[int, int]) -> None:
        assert snap_compare(desk_app, terminal_size=size, run_before=settled("down", "down"))

    @pytest.mark.usefixtures("late_store")
    def test_conversation_late_with_due_time(self, snap_compare: Any, desk_app: DeskApp,
                                             size: tuple[int, int]) -> None:
        assert snap_compare(desk_app, terminal_size=size, run_before=settled("enter"))

    def test_queue_light_theme(self, snap_compare: Any, late_store: Engine,
                               size: tuple[int, int]) -> None:
        assert snap_compare(light_desk(late_store), terminal_size=size,
                            run_before=settled("down", "down"))

    def test_conversation_light_theme(self, snap_compare: Any, late_store: Engine,
                                      size: tuple[int, int]) -> None:
        assert snap_compare(light_desk(late_store), terminal_size=size,
                            run_before=settled("down", "down", "enter"))

