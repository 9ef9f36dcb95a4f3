"""How many DM events a request asks for (`connectors.x_dm_pages`): the rate the cursor
carries times the minutes since the last pass, with room to spare; full pages double."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors import x_dm_pages
from connectors.x_walk import WalkCursor

NOW = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
MINUTE_AGO = int((NOW - timedelta(minutes=1)).timestamp())


def cursor(recent: float | None, minutes_ago: float = 1, next_token: str | None = None
           ) -> WalkCursor:
    polled_at = int((NOW - timedelta(minutes=minutes_ago)).timestamp())
    return WalkCursor("1900", next_token=next_token, recent=recent, polled_at=polled_at)


def test_a_first_walk_and_a_resumed_one_read_pages_of_100() -> None:
    assert x_dm_pages.first_page(WalkCursor(None), True, NOW) == 100
    assert x_dm_pages.first_page(WalkCursor("1900"), True, NOW) == 100, "no rate stored yet"
    assert x_dm_pages.first_page(cursor(0.0, next_token="t"), True, NOW) == 100


def test_a_quiet_stream_asks_for_two_events() -> None:
    assert x_dm_pages.first_page(cursor(0.0), True, NOW) == 2


def test_the_page_grows_with_the_rate_and_the_time_since_the_last_pass() -> None:
    assert x_dm_pages.first_page(cursor(2.0, minutes_ago=1), True, NOW) == 5
    assert x_dm_pages.first_page(cursor(2.0, minutes_ago=3), True, NOW) == 11
    assert x_dm_pages.first_page(cursor(50.0, minutes_ago=5), True, NOW) == 100


def test_only_a_page_all_new_widens_the_next() -> None:
    assert x_dm_pages.next_page(4, new_on_page=4, adaptive=True) == 8
    assert x_dm_pages.next_page(4, new_on_page=3, adaptive=True) == 4
    assert x_dm_pages.next_page(64, new_on_page=64, adaptive=True) == 100


def test_the_rate_follows_what_the_passes_find() -> None:
    busy = x_dm_pages.recent_after(cursor(0.0), 10, True, NOW)
    assert busy == 3.0, "10 in a minute move a rate of 0 by 0.3 x 10"
    calm = x_dm_pages.recent_after(cursor(3.0, minutes_ago=2), 0, True, NOW)
    assert calm is not None and abs(calm - 2.1) < 1e-9
    assert x_dm_pages.recent_after(WalkCursor(None), 300, True, NOW) == 0.0, \
        "a first walk reads the history: that is no rate"


def test_without_adaptive_polling_every_page_is_100_and_no_rate_is_kept() -> None:
    assert x_dm_pages.first_page(cursor(0.0), False, NOW) == 100
    assert x_dm_pages.next_page(4, new_on_page=0, adaptive=False) == 100
    assert x_dm_pages.recent_after(cursor(1.0), 3, False, NOW) is None
    assert WalkCursor("1900").encode() == "1900", "the cursor stays a plain id"


def test_the_rate_survives_the_stored_cursor() -> None:
    stored = WalkCursor("1900", recent=1.25, polled_at=MINUTE_AGO).encode()
    assert WalkCursor.parse(stored) == WalkCursor("1900", recent=1.25, polled_at=MINUTE_AGO)
