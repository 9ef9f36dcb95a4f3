"""Fixtures shared by the integration tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from socialdesk.config import Settings
from socialdesk.store.db import open_store


@pytest.fixture
def runners() -> Iterator[list[subprocess.Popen[str]]]:
    """Every `run` a test starts; one a failed test left running is killed at teardown."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """The store of the module's `settings` (a module may define its own, synced, one)."""
    store = open_store(settings.database.effective_url)
    yield store
    store.dispose()
