"""How many DM events a request asks for (`connectors.x_dm_pages`): the rate the cursor
carries times the minutes since the last pass, with room to spare, plus the known event
that ends the walk; a quiet stream asks for that one alone. A first page all new is
followed by half as many, later full pages double."""

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


def test_a_quiet_stream_asks_for_the_known_event_alone() -> None:
    assert x_dm_pages.first_page(cursor(0.0), True, NOW) == 1
    assert x_dm_pages.first_page(cursor(0.2), True, NOW) == 1, \
        "a rate decayed to a fraction of an event a minute is quiet"
    assert x_dm_pages.first_page(cursor(0.4), True, NOW) == 2


def test_the_page_grows_with_the_rate_and_the_time_since_the_last_pass() -> None:
    assert x_dm_pages.first_page(cursor(2.0, minutes_ago=1), True, NOW) == 4
    assert x_dm_pages.first_page(cursor(2.0, minutes_ago=3), True, NOW) == 10
    assert x_dm_pages.first_page(cursor(50.0, minutes_ago=5), True, NOW) == 100


def test_a_restart_sizes_its_first_page_by_the_time_it_was_down() -> None:
    """The rate and the start of the last pass live in the stored cursor: a `run` started
    again 10 minutes later expects 10 minutes of traffic, not one."""
    stored = WalkCursor("1900", recent=1.0, polled_at=int((NOW - timedelta(minutes=10))
                                                           .timestamp())).encode()
    assert x_dm_pages.first_page(WalkCursor.parse(stored), True, NOW) == 16
    down_a_day = WalkCursor("1900", recent=1.0,
                            polled_at=int((NOW - timedelta(days=1)).timestamp()))
    assert x_dm_pages.first_page(down_a_day, True, NOW) == 91, "an hour's worth at most"


def test_a_burst_that_fills_the_first_page_widens_half_then_doubles() -> None:
    assert x_dm_pages.next_page(4, new_on_page=4, adaptive=True, first=True) == 2
    assert x_dm_pages.next_page(1, new_on_page=1, adaptive=True, first=True) == 2
    assert x_dm_pages.next_page(30, new_on_page=30, adaptive=True, first=True) == 15
    assert x_dm_pages.next_page(2, new_on_page=2, adaptive=True, first=False) == 4
    assert x_dm_pages.next_page(64, new_on_page=64, adaptive=True, first=False) == 100
    assert x_dm_pages.next_page(100, new_on_page=100, adaptive=True, first=True) == 100, \
        "a page of 100 (a backlog, a resumed walk) goes on with pages of 100"


def test_a_page_that_met_a_known_event_does_not_widen() -> None:
    assert x_dm_pages.next_page(4, new_on_page=3, adaptive=True, first=True) == 4
    assert x_dm_pages.next_page(8, new_on_page=0, adaptive=True, first=False) == 8


def test_the_rate_follows_what_the_passes_find() -> None:
    busy = x_dm_pages.recent_after(cursor(0.0), 10, True, NOW)
    assert busy == 5.0, "10 in a minute move a rate of 0 by 0.5 x 10"
    calm = x_dm_pages.recent_after(cursor(3.0, minutes_ago=2), 0, True, NOW)
    assert calm is not None and abs(calm - 1.5) < 1e-9
    assert x_dm_pages.recent_after(WalkCursor(None), 300, True, NOW) == 0.0, \
        "a first walk reads the history: that is no rate"


def test_without_adaptive_polling_every_page_is_100_and_no_rate_is_kept() -> None:
    assert x_dm_pages.first_page(cursor(0.0), False, NOW) == 100
    assert x_dm_pages.next_page(4, new_on_page=0, adaptive=False, first=True) == 100
    assert x_dm_pages.recent_after(cursor(1.0), 3, False, NOW) is None
    assert WalkCursor("1900").encode() == "1900", "the cursor stays a plain id"


def test_the_rate_survives_the_stored_cursor() -> None:
    stored = WalkCursor("1900", recent=1.25, polled_at=MINUTE_AGO).encode()
    assert WalkCursor.parse(stored) == WalkCursor("1900", recent=1.25, polled_at=MINUTE_AGO)
