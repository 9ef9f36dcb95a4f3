"""The desk app on a fixed store with a frozen clock, built by the CLI's own factory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.context import Desk, Operator
from tests.tui.desk_fixture import NOW, build_desk_store


@pytest.fixture
def desk_store(tmp_path: Path) -> Iterator[Engine]:
    engine = build_desk_store(tmp_path / "desk.db")
    yield engine
    engine.dispose()


@pytest.fixture
def desk_app(desk_store: Engine) -> DeskApp:
    return make_app(Desk(engine=desk_store, operator=Operator("AB", "Alex Bruno"),
                         clock=lambda: NOW, poll_seconds=0))
