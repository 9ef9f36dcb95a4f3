"""Scheduled reports cover the whole previous period and land atomically."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from socialdesk.config import ScheduledReport
from socialdesk.errors import ConfigError
from socialdesk.reports.schedule import output_path, previous_period

ROME = ZoneInfo("Europe/Rome")
"""The desk's zone (`[hours] timezone`): report days are its days."""


@pytest.fixture(autouse=True)
def new_york() -> Iterator[None]:
    """The machine in New York: the desk's days must not follow the machine's `TZ`."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if previous is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = previous
    time.tzset()


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        ("day", (date(2026, 11, 29), date(2026, 11, 29))),
        ("week", (date(2026, 11, 23), date(2026, 11, 29))),
        ("month", (date(2026, 10, 1), date(2026, 10, 31))),
    ],
)
def test_the_period_is_the_whole_previous_one(length: str, expected: tuple[date, date]) -> None:
    monday_morning = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 07:00 in Rome
    assert previous_period(length, monday_morning, ROME) == expected


def test_a_week_starting_on_a_sunday_evening_in_utc_is_rome_s_week() -> None:
    """23:30 UTC on Sunday is already Monday in Rome: the week just ended is reported."""
    assert previous_period("week", datetime(2026, 11, 29, 23, 30, tzinfo=UTC), ROME) == (
        date(2026, 11, 23), date(2026, 11, 29))


def test_placeholders_fill_the_output_path(tmp_path: Path) -> None:
    entry = ScheduledReport(cron="0 7 * * mon", kind="daily",
                            output=f"{tmp_path}/{{kind}}-{{since}}-{{until}}.csv")
    path = output_path(entry, date(2026, 11, 23), date(2026, 11, 29), date(2026, 11, 30))
    assert path == tmp_path / "daily-2026-11-23-2026-11-29.csv"


def test_an_unknown_placeholder_is_a_config_error() -> None:
    from socialdesk.config import settings_from_mapping

    with pytest.raises(ConfigError, match="unknown placeholder"):
        settings_from_mapping({"reports": {"schedule": [
            {"cron": "0 7 * * mon", "kind": "daily", "output": "x-{week}.csv"}]}}, "test")
