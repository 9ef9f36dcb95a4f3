"""How many DM events each request asks X for: few while the stream is quiet, more only
when a page comes back full of new events.

`GET /2/dm_events` has no `since_id`: every request returns a page from the newest event,
and X bills every event returned (PLATFORMS.md). A page of 100 on a quiet stream re-reads
100 known events to find none new. So the first page of a pass asks for about one and a
half times the new events recent passes found, plus one to meet the known event that ends
the walk: a single event when nothing came lately (X's minimum for `max_results` is 1,
tweepy's docstring). A page whose events are all new means more may wait behind it: the
next page asks for twice as many, up to 100.

Which pass is "recent" is carried in the stream's cursor (`WalkCursor.recent`), a running
average of the new events per pass, so a restarted `run` or a cron `sync` keeps it.
"""

from __future__ import annotations

import math

from connectors.x_walk import WalkCursor

DM_PAGE_SIZE = 100
"""The largest `max_results` of `GET /2/dm_events`: a first walk (the backfill), a walk
resumed after its page cap, and every page when adaptive polling is off."""

DM_QUIET_PAGE = 1
"""The smallest `max_results` X accepts for DM lookups (1 to 100)."""

MARGIN = 1.5
"""The first page asks for this many times the recent average, so a pass that finds a few
more than usual still needs one request."""

RECENT_WEIGHT = 0.25
"""The weight of the last pass in the running average of new events per pass."""


def first_page(start: WalkCursor, adaptive: bool) -> int:
    """`max_results` of a pass's first request."""
    if not adaptive or start.recent is None or start.next_token is not None:
        return DM_PAGE_SIZE
    return _clamped(math.ceil(MARGIN * start.recent) + 1)


def next_page(size: int, new_on_page: int, adaptive: bool) -> int:
    """`max_results` of the request after a page of `size` with `new_on_page` new events:
    twice as many when the page was all new, else unchanged."""
    if not adaptive:
        return DM_PAGE_SIZE
    return _clamped(2 * size) if new_on_page >= size else size


def recent_after(start: WalkCursor, new_in_walk: int, adaptive: bool) -> float | None:
    """The running average to store when a walk ends with `new_in_walk` new events.

    A first walk reads the whole history: that is no rate, so the average starts at 0.
    """
    if not adaptive:
        return None
    if start.recent is None:
        return 0.0
    return (1 - RECENT_WEIGHT) * start.recent + RECENT_WEIGHT * new_in_walk


def _clamped(size: int) -> int:
    return max(DM_QUIET_PAGE, min(size, DM_PAGE_SIZE))
