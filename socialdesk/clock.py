"""The one place the wall clock is read: the edges (CLI, `run`, the desk) hand it down.

Domain code never reads the time itself: every write that stamps a time takes the caller's
`Clock`, so tests (and a desk replaying a day) decide what "now" is, and no result depends on
the day a test runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

Clock = Callable[[], datetime]
"""Returns the current instant, timezone-aware UTC."""


def system_clock() -> datetime:
    """The wall clock, for the edges only."""
    return datetime.now(UTC)


def zone_time(moment: datetime, zone: tzinfo, now: datetime | None = None) -> str:
    """`moment` on the desk's clock, its zone named: "12:15:04 CET", with the date in front
    when it is not `now`'s day there. One zone for every line a person reads (issue 17:
    `run` mixed the machine's local time and UTC)."""
    local = moment.astimezone(zone)
    same_day = now is not None and now.astimezone(zone).date() == local.date()
    shown = f"{local:%H:%M:%S}" if same_day else f"{local:%Y-%m-%d %H:%M:%S}"
    return f"{shown} {zone_name(moment, zone)}"


def zone_name(moment: datetime, zone: tzinfo) -> str:
    """`CET`, `CEST`, `UTC`; `UTC-03` where the zone has no letters for it."""
    name = moment.astimezone(zone).tzname() or str(zone)
    return f"UTC{name}" if name[:1] in "+-" else name
