"""How soon a stream may be polled again: fast while customers are writing in it, slower
when it is quiet (`StreamTempo`), and never sooner than the platform's usage headers allow,
read before it refuses, not after.

X says how many requests each window has left and when it resets (`x-rate-limit-*`, and
the 24-hour `x-app-limit-24hour-*`/`x-user-limit-24hour-*` caps): the pace spreads what is
left over the time to each window's reset, so the budget lasts until the window turns.
Graph says what share of the app's, Page's and business use case's quotas is used
(`X-App-Usage`, `X-Page-Usage`, `X-Business-Use-Case-Usage`) and, once throttled, when
access comes back (`estimated_time_to_regain_access`): past SLOW_DOWN_SHARE the poll
interval doubles; at 100 % the stream waits for the regain time (PLATFORMS.md, Graph's
back-off policy). A budget with nothing left stops a walk after the page that said so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from connectors.base import RateLimitStatus
from socialdesk.clock import zone_time
from socialdesk.store.models import SyncCursor

RESET_MARGIN = timedelta(seconds=2)
"""Poll this long after a rate-limit reset, so the platform's window has surely turned."""
SLOW_DOWN_SHARE = 0.8
"""Past this share of a percentage quota used, the poll interval doubles (PLATFORMS.md)."""
UNKNOWN_RESET_WAIT = timedelta(minutes=5)
"""A spent budget that names no reset waits this long first (PLATFORMS.md: 5 min, doubling
to 60 while it stays spent)."""
LONGEST_UNKNOWN_RESET_WAIT = timedelta(minutes=60)


ACTIVE_FOR = timedelta(minutes=2)
"""A stream counts as active this long after a poll found something new in it: customers
who have just written tend to write again within a minute or two."""
SLOWING = 1.5
"""Each quiet poll after the active spell waits this much longer than the one before, up to
the slowest interval: 20 s becomes 30, 45, 60 in under three minutes."""


@dataclass
class StreamTempo:
    """How often one stream is polled, from what its last polls found.

    A poll that finds something new keeps the stream at its fastest interval for
    `ACTIVE_FOR`; after that every empty poll stretches the interval by `SLOWING`, up to
    the slowest. The first poll after a quiet spell waits at most the slowest interval,
    so `poll_seconds` bounds how stale a quiet stream can be. The usage headers may still
    push a poll later (`next_poll`): the tempo decides how soon we want to look, the
    budget how soon we may.
    """

    fastest: timedelta
    slowest: timedelta
    interval: timedelta | None = None
    last_new_at: datetime | None = None

    def __post_init__(self) -> None:
        self.fastest = min(self.fastest, self.slowest)

    @property
    def current(self) -> timedelta:
        """The interval the stream is polled at now (the fastest before any poll)."""
        return self.interval or self.fastest

    def after_poll(self, now: datetime, new_items: int) -> timedelta:
        """Record what a poll at `now` found; return the interval until the next one."""
        if new_items > 0:
            self.last_new_at = now
        if self.interval is None or self.active(now):
            self.interval = self.fastest
        else:
            self.interval = min(self.interval * SLOWING, self.slowest)
        return self.interval

    def active(self, now: datetime) -> bool:
        """New items were found less than `ACTIVE_FOR` ago."""
        return self.last_new_at is not None and now - self.last_new_at < ACTIVE_FOR


def windows(budget: RateLimitStatus) -> tuple[RateLimitStatus, ...]:
    """Every window the budget names (X's 15-minute one and daily caps), or itself."""
    return budget.windows or (budget,)


def budget_spent(budget: RateLimitStatus | None) -> bool:
    """True when some window has nothing left: one more request would be refused."""
    if budget is None:
        return False
    return any(w.remaining is not None and w.remaining <= 0 for w in windows(budget))


def spent_until(budget: RateLimitStatus) -> datetime | None:
    """When a spent budget refills: the latest reset among its empty windows (None when
    the platform named none)."""
    resets = [w.reset_at for w in windows(budget)
              if w.remaining is not None and w.remaining <= 0 and w.reset_at is not None]
    return max(resets) if resets else None


def unknown_reset_wait(times_spent: int) -> timedelta:
    """5, 10, 20, 40, then 60 minutes for a budget spent `times_spent` passes in a row."""
    doubled = 1 << max(times_spent - 1, 0)
    return min(UNKNOWN_RESET_WAIT * doubled, LONGEST_UNKNOWN_RESET_WAIT)


def requests_spent(previous: RateLimitStatus | None, current: RateLimitStatus) -> int:
    """Requests the window lost since the previous pull's last page: the pull's true cost
    (a page can take more than one request), plus whatever else spent the same budget.
    0 when the window turned in between or the budget is a percentage."""
    if previous is None or previous.percent or current.percent:
        return 0
    if previous.reset_at != current.reset_at or None in (previous.remaining, current.remaining):
        return 0
    return max((previous.remaining or 0) - (current.remaining or 0), 0)


def next_cost(pages: int, spent: int, adaptive: bool, backlog: bool) -> int:
    """Requests the next pull is expected to cost, for `next_poll`.

    `pages` is what the last pull took and `spent` what the window lost since the pull
    before (`requests_spent`: the pull's pages plus whatever else spent the same budget).
    A fixed-interval stream expects the next pull to cost as much as the last. An adaptive
    stream sizes its pages to what arrives and polls again before much piles up, so a pull
    that needed a second page is no forecast: its next pull costs one request, plus what
    others spent meanwhile. A backlog (a walk cut short) costs its pages again.
    """
    if not adaptive or backlog:
        return max(pages, spent, 1)
    return 1 + max(spent - pages, 0)


def next_poll(
    budget: RateLimitStatus | None,
    cost: int,
    interval: timedelta,
    now: datetime,
    times_spent: int = 1,
) -> datetime | None:
    """The earliest time the stream should be polled again, or None when its regular
    interval keeps within the budget.

    `cost` is how many requests the last pull made (its pages); spreading `remaining / cost`
    pulls over the time to the reset makes the budget last exactly until it refills.
    """
    if budget is None:
        return None
    candidates = [at for w in windows(budget)
                  if (at := _window_pace(w, max(cost, 1), interval, now, times_spent))]
    latest = max(candidates, default=None)
    return latest if latest is not None and latest > now + interval else None


def _window_pace(
    window: RateLimitStatus, cost: int, interval: timedelta, now: datetime, times_spent: int
) -> datetime | None:
    reset = window.reset_at
    if window.remaining is None or (reset is not None and reset <= now):
        return None  # nothing said, or the window has turned since: the budget is whole
    if window.remaining <= 0:
        return reset or now + unknown_reset_wait(times_spent)
    if window.percent:
        used = 1 - window.remaining / (window.limit or 100)
        return now + 2 * interval if used >= SLOW_DOWN_SHARE else None
    if reset is None:
        return None
    return now + (reset - now) * min(cost / window.remaining, 1)


def describe(budget: RateLimitStatus, zone: tzinfo) -> str:
    """For log lines: "7 of 15 left until 11:15:00 CET" (the desk's `zone`), "85 % used";
    the tightest window."""
    if budget.percent:
        return f"{100 - (budget.remaining or 0)} % used"
    left = f"{budget.remaining} of {budget.limit}" if budget.limit else f"{budget.remaining}"
    until = f" until {zone_time(budget.reset_at, zone, budget.reset_at)}" \
        if budget.reset_at else ""
    return f"{left} left{until}"


def to_text(budget: RateLimitStatus) -> str:
    """The budget as stored in `sync_cursor.rate_budget` (JSON, every window)."""
    return json.dumps([_window_dict(w) for w in windows(budget)], separators=(",", ":"))


def from_text(text: str | None) -> RateLimitStatus | None:
    """The stored budget, or None when nothing (readable) was stored."""
    if not text:
        return None
    try:
        stored = [_window(entry) for entry in json.loads(text)]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if not stored:
        return None
    tightest = min(stored, key=lambda w: w.remaining if w.remaining is not None else 1 << 62)
    if len(stored) == 1:
        return tightest
    return RateLimitStatus(tightest.limit, tightest.remaining, tightest.reset_at,
                           tightest.percent, tuple(stored))


def _window_dict(window: RateLimitStatus) -> dict[str, Any]:
    return {
        "limit": window.limit,
        "remaining": window.remaining,
        "reset_at": window.reset_at.isoformat() if window.reset_at else None,
        "percent": window.percent,
    }


def _window(entry: dict[str, Any]) -> RateLimitStatus:
    reset = entry["reset_at"]
    return RateLimitStatus(
        limit=entry["limit"],
        remaining=entry["remaining"],
        reset_at=datetime.fromisoformat(reset) if reset else None,
        percent=bool(entry["percent"]),
    )


def first_poll(state: SyncCursor | None, interval: timedelta, start: datetime) -> datetime:
    """When a worker first polls a stream (at its start, or on taking the stream over):
    `start`, unless the stream waits for a reset, or the pace the stored headers of its
    last pull set (from when it succeeded) is not over yet."""
    if state is None:
        return start
    first = start
    if state.rate_limited_until is not None:
        first = max(first, state.rate_limited_until + RESET_MARGIN)
    budget = from_text(state.rate_budget)
    if budget is not None and state.last_success_at is not None:
        paced = next_poll(budget, 1, interval, state.last_success_at)
        first = max(first, paced or first)
    return first
