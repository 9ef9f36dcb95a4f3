"""Fixtures for the sandbox tests: running servers and the recorded real responses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import RECORDED

from socialdesk.sandbox import SandboxServer


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A static sandbox with the default 60 customer items, seed 0."""
    with SandboxServer(seed=0, static=True, timeout_seconds=0.5) as server:
        yield server


@pytest.fixture
def big_sandbox() -> Iterator[SandboxServer]:
    """A larger static data set, so rare cases (old threads, closed windows) surely exist."""
    with SandboxServer(seed=3, static=True, messages=200, timeout_seconds=0.5) as server:
        yield server


@pytest.fixture(scope="session")
def recorded() -> Path:
    """The recorded real responses; skipped when absent, a failure in CI."""
    if not RECORDED.is_dir():
        reason = f"recorded API responses not found at {RECORDED} (set SOCIALDESK_RECORDED_DIR)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return RECORDED
