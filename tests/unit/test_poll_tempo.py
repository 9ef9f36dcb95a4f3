"""Adaptive polling (issue 16 point 3): fast while customers write, slower when a stream is
quiet, and never past the platform's budget, on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from connectors.base import RateLimitStatus
from socialdesk.sandbox.limits import RateLimiter
from socialdesk.service import pacing
from socialdesk.service.pacing import StreamTempo

START = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def tempo(fastest: int = 20, slowest: int = 60) -> StreamTempo:
    return StreamTempo(fastest * SECOND, slowest * SECOND)


def test_a_stream_with_new_items_is_polled_at_its_fastest() -> None:
    stream = tempo()
    assert stream.after_poll(START, new_items=3) == 20 * SECOND


def test_an_empty_poll_right_after_new_items_stays_fast() -> None:
    """Customers who just wrote write again: the stream stays fast for two minutes."""
    stream = tempo()
    stream.after_poll(START, new_items=1)
    for seconds in (20, 40, 60, 80, 100):
        assert stream.after_poll(START + seconds * SECOND, new_items=0) == 20 * SECOND


def test_a_quiet_stream_slows_down_to_its_slowest_interval() -> None:
    stream = tempo()
    stream.after_poll(START, new_items=1)
    quiet = START + pacing.ACTIVE_FOR
    intervals = [stream.after_poll(quiet + n * 60 * SECOND, new_items=0) for n in range(5)]
    assert intervals == [30 * SECOND, 45 * SECOND, 60 * SECOND, 60 * SECOND, 60 * SECOND]


def test_a_quiet_stream_is_fast_again_as_soon_as_something_arrives() -> None:
    stream = tempo()
    for n in range(6):
        stream.after_poll(START + n * 60 * SECOND, new_items=0)
    assert stream.current == 60 * SECOND
    assert stream.after_poll(START + 7 * 60 * SECOND, new_items=1) == 20 * SECOND


def test_a_stream_never_polled_starts_fast() -> None:
    assert tempo().current == 20 * SECOND


def test_a_fastest_above_the_slowest_is_the_slowest() -> None:
    assert tempo(fastest=90, slowest=60).after_poll(START, new_items=5) == 60 * SECOND


def simulate(fastest: int, limit: int, pages_per_poll: int, minutes: int,
             adaptive_cost: bool = False) -> tuple[int, list[int], list[datetime]]:
    """A stream that finds something new at every poll against an emulated 15-minute
    window of `limit` requests (it opens on the first call, as X's do). Each poll walks
    `pages_per_poll` pages, stopping early when a page says nothing is left (as `sync`
    does); the next poll is the later of what the tempo wants and what the headers allow,
    for the cost the scheduler expects. Returns the 429s, the requests per window, and the
    poll times."""
    now = START
    limiter = RateLimiter({"x.dm_events": limit}, clock=lambda: now)
    stream = tempo(fastest=fastest, slowest=120)
    refused, per_window, polls = 0, {}, []
    while now < START + minutes * 60 * SECOND:
        polls.append(now)
        budget, pages = None, 0
        for _ in range(pages_per_poll):
            if pacing.budget_spent(budget):
                break
            pages += 1
            spent = limiter.spend("x.dm_events")
            refused += spent.exceeded
            per_window[spent.reset] = per_window.get(spent.reset, 0) + (not spent.exceeded)
            budget = RateLimitStatus(spent.limit, spent.remaining,
                                     datetime.fromtimestamp(spent.reset, UTC))
        interval = stream.after_poll(now, new_items=1)
        cost = pacing.next_cost(pages, pages, adaptive_cost, backlog=False)
        paced = pacing.next_poll(budget, cost, interval, now)
        now = max(now + interval, paced or now)
    return refused, list(per_window.values()), polls


@pytest.mark.parametrize("adaptive_cost", [False, True])
@pytest.mark.parametrize(("fastest", "pages"), [(60, 1), (10, 1), (2, 1), (10, 2), (5, 3)])
def test_a_busy_stream_never_exceeds_a_15_per_15_minutes_budget(
    fastest: int, pages: int, adaptive_cost: bool
) -> None:
    """DM lookup allows 15 requests per 15 minutes: however fast the tempo wants to poll,
    and however many pages a poll takes, no window sees a 16th request and none is refused."""
    refused, per_window, _ = simulate(fastest, limit=15, pages_per_poll=pages, minutes=90,
                                      adaptive_cost=adaptive_cost)
    assert refused == 0
    assert max(per_window) <= 15
    assert len(per_window) >= 5, "the simulation spans several windows"


def test_the_budget_is_spread_over_the_window_not_spent_at_its_start() -> None:
    """At most about one poll a minute on average: no burst of 15 and then 14 silent minutes
    (a customer writing in them would wait up to a quarter of an hour)."""
    _, _, polls = simulate(fastest=2, limit=15, pages_per_poll=1, minutes=60)
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(polls)]
    assert max(gaps) <= 120
    assert len(polls) <= 62


def test_a_roomy_budget_lets_the_tempo_decide() -> None:
    """300 mention lookups per 15 minutes: polling every 20 s spends 45 of them, so the
    headers never slow the stream down."""
    refused, per_window, polls = simulate(fastest=20, limit=300, pages_per_poll=1, minutes=30)
    gaps = {(later - earlier).total_seconds() for earlier, later in pairwise(polls)}
    assert refused == 0 and gaps == {20.0}
    assert max(per_window) == 45


def test_a_fixed_stream_expects_its_next_pull_to_cost_what_the_last_did() -> None:
    assert pacing.next_cost(pages=3, spent=3, adaptive=False, backlog=False) == 3
    assert pacing.next_cost(pages=1, spent=4, adaptive=False, backlog=False) == 4


def test_an_adaptive_stream_expects_one_request_plus_what_others_spent() -> None:
    """Its pages are sized to what arrives: a pass that needed a second page does not make
    the next one wait twice as long (a DM would then wait over two minutes)."""
    assert pacing.next_cost(pages=3, spent=3, adaptive=True, backlog=False) == 1
    assert pacing.next_cost(pages=1, spent=3, adaptive=True, backlog=False) == 3, \
        "another app spent 2 of the same budget meanwhile"
    assert pacing.next_cost(pages=5, spent=5, adaptive=True, backlog=True) == 5, \
        "a walk cut short resumes: as many pages again"
