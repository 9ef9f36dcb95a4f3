"""The dashboard's days are the desk's days, whatever zone the server keeps.

A message written at 00:30 in Rome is 23:30 UTC the day before: counted by UTC day, as the
dashboard did, it landed on the wrong bar of the sparkline for an Italian desk.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from socialdesk.store.queries.dashboard import dashboard_figures
from tests.tui.desk_fixture import NOW, add_conversation, build_desk_store

ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def store(store_url: str) -> Iterator[Engine]:
    engine = build_desk_store(store_url)
    yield engine
    engine.dispose()


def mentions_per_day(store: Engine, zone: ZoneInfo) -> dict[str, int]:
    figures = dashboard_figures(store, NOW, zone)
    counts = figures.volumes["mention"]
    return {f"{day:%d %b}": count for day, count in zip(figures.days, counts, strict=True)
            if count}


def test_a_message_after_midnight_in_rome_counts_on_romes_day(store: Engine) -> None:
    before = mentions_per_day(store, ROME)
    add_conversation(store, "Nottambulo", "ciao, ci siete?", datetime(2026, 11, 24, 23, 30,
                                                                      tzinfo=UTC))
    after = mentions_per_day(store, ROME)
    assert after.get("25 Nov", 0) == before.get("25 Nov", 0) + 1
    assert after.get("24 Nov", 0) == before.get("24 Nov", 0)
    on_utc_days = mentions_per_day(store, ZoneInfo("UTC"))
    assert on_utc_days.get("24 Nov", 0) == before.get("24 Nov", 0) + 1


def test_the_fortnight_ends_on_the_desks_today(store: Engine) -> None:
    late_evening = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 1 Dec, 00:30 in Rome
    figures = dashboard_figures(store, late_evening, ROME)
    assert f"{figures.days[-1]:%d %b}" == "01 Dec"
    assert len(figures.days) == 14
