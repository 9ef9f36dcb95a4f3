"""The one place the wall clock is read: the edges (CLI, `run`, the desk) hand it down.

Domain code never reads the time itself: every write that stamps a time takes the caller's
`Clock`, so tests (and a desk replaying a day) decide what "now" is, and no result depends on
the day a test runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current instant, timezone-aware UTC."""


def system_clock() -> datetime:
    """The wall clock, for the edges only."""
    return datetime.now(UTC)
