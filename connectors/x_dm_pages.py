"""How many DM events each request asks X for: few while the stream is quiet, more only
when a page comes back full of new events.

`GET /2/dm_events` has no `since_id`: every request returns a page from the newest event,
and X bills every event returned (PLATFORMS.md). A page of 100 on a quiet stream re-reads
100 known events to find none new. So the first page of a pass asks for one and a half
times the new events expected since the last pass (the recent rate times the time since,
rounded), plus one: the known event that ends the walk. A quiet stream asks for that one
event alone (X accepts `max_results` from 1 to 100: X's API reference, tweepy's docstring).

A page whose events are all new means more may wait behind it. The first page was sized
to the traffic, so what it missed is most likely a few events: the next page asks for half
of it (at least 2, one more event and the known one), and each page after that twice the
one before, up to 100, so a burst of hundreds still takes a handful of requests. The rate
follows what each pass finds, smoothed (`RATE_WEIGHT`).

Every pass that ends on a known event reads at least that one, so the events returned per
new event stay above 1 + passes / new events; X bills an event read twice in one UTC day
once, so the known events a pass meets again (read as new by an earlier pass) cost nothing
more on the bill. A pass that needs a second request costs a second DM lookup of the 15
per 15 minutes, which delays the next pass (the usage headers spread what is left): that
is why the first page keeps a margin rather than asking for the expectation alone. The rate
is carried in the stream's cursor (`WalkCursor.recent`, new events per minute, and
`polled_at`), so a restarted `run` or a cron `sync` keeps it.

Not used: asking for the events newer than a page with `pagination_token=<previous_token>`.
X documents `previous_token` only as the way "back a page" and says not to poll with page
tokens; what a first page's `previous_token` returns is not documented, and a poll that
relied on it could not be shown never to lose a DM.
"""

from __future__ import annotations

import math
from datetime import datetime

from connectors.x_walk import WalkCursor

DM_PAGE_SIZE = 100
"""The largest `max_results` of `GET /2/dm_events`: a first walk (the backfill), a walk
resumed after its page cap, and every page when adaptive polling is off."""

DM_QUIET_PAGE = 1
"""A quiet stream's page: the known newest event alone, X's smallest `max_results`."""

FIRST_OVERFLOW = 2
"""The least the page after a first page all new asks for: one more event and the known
one."""

MARGIN = 1.5
"""The first page asks for this many times the events expected, so a pass that finds a
few more than usual still needs one request."""

RATE_WEIGHT = 0.5
"""The weight of the last pass in the running rate: it follows a change within two or
three passes (a stream that starts quiet after the backfill sizes its pages to the
traffic by the third pass, instead of widening pass after pass), and one busy minute does
not make every later page large."""

LONGEST_GAP_MINUTES = 60.0
"""Expectations stop growing past an hour without a pass (a page of 100 by then)."""


def first_page(start: WalkCursor, adaptive: bool, now: datetime) -> int:
    """`max_results` of a pass's first request."""
    if not adaptive or start.recent is None or start.next_token is not None:
        return DM_PAGE_SIZE
    expected = start.recent * _minutes_since(start, now)
    return _clamped(math.floor(MARGIN * expected + 0.5) + DM_QUIET_PAGE)


def next_page(size: int, new_on_page: int, adaptive: bool, first: bool) -> int:
    """`max_results` of the request after a page of `size` with `new_on_page` new events
    (`first`: it was the pass's first page). Only a page all new widens: after the first
    page, half of it (at least `FIRST_OVERFLOW`); after a later one, twice as many."""
    if not adaptive:
        return DM_PAGE_SIZE
    if new_on_page < size:
        return size
    if first and size < DM_PAGE_SIZE:
        return _clamped(max(FIRST_OVERFLOW, size // 2))
    return _clamped(2 * size)


def recent_after(start: WalkCursor, new_in_walk: int, adaptive: bool, now: datetime
                 ) -> float | None:
    """The rate (new events per minute) to store when a walk that began at `now` ends with
    `new_in_walk` new events. A first walk reads the whole history: no rate, so 0."""
    if not adaptive:
        return None
    if start.recent is None or start.polled_at is None:
        return 0.0
    observed = new_in_walk / max(_minutes_since(start, now), 1 / 60)
    return (1 - RATE_WEIGHT) * start.recent + RATE_WEIGHT * observed


def _minutes_since(start: WalkCursor, now: datetime) -> float:
    if start.polled_at is None:
        return 1.0
    minutes = (now.timestamp() - start.polled_at) / 60
    return min(max(minutes, 0.0), LONGEST_GAP_MINUTES)


def _clamped(size: int) -> int:
    return max(1, min(size, DM_PAGE_SIZE))
