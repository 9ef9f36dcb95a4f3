"""The question before a public answer while the privacy redirect waits (issue 15 point 1),
as the operator sees it at 80×24. Refresh with `--snapshot-update` after looking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from socialdesk.tui.app import DeskApp
from tests.tui.test_desk_triage import suggest_redirect
from tests.tui.test_snapshots import settled


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """Pictures on SQLite only, as in test_snapshots."""
    return f"sqlite:///{tmp_path / 'store.db'}"


def test_public_answer_question_before_the_redirect(
    snap_compare: Any, desk_app: DeskApp, desk_store: Engine
) -> None:
    suggest_redirect(desk_store)
    assert snap_compare(desk_app, terminal_size=(80, 24), run_before=settled("enter", "r"))
