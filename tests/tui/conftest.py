"""The desk app on a fixed store with a frozen clock, built by the CLI's own factory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.context import Desk, Operator
from tests.tui.desk_fixture import NOW, build_desk_store


@pytest.fixture
def desk_store(store_url: str) -> Iterator[Engine]:
    """The fixed store on SQLite and, when configured, on PostgreSQL (tests/conftest.py)."""
    engine = build_desk_store(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def desk_app(desk_store: Engine) -> DeskApp:
    return make_app(Desk(engine=desk_store, operator=Operator("AB", "Alex Bruno"),
                         clock=lambda: NOW, poll_seconds=0))
