"""Fixtures shared by the store tests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest


@pytest.fixture
def rome_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's time zone set to Rome (UTC+1): `--since`/`--until` are read in it,
    and report times must stay UTC whatever it is."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset (Unix)")
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "Europe/Rome")
        time.tzset()
        yield
    time.tzset()
