"""Pacing by usage headers: a budget lasts until its reset, and Graph slows down past 80 %."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from connectors.base import RateLimitStatus
from socialdesk.service import pacing

NOW = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def x_window(remaining: int, limit: int = 15, reset_in: timedelta = 15 * MINUTE
             ) -> RateLimitStatus:
    return RateLimitStatus(limit=limit, remaining=remaining, reset_at=NOW + reset_in)


def graph(used: int, regain: timedelta | None = None) -> RateLimitStatus:
    return RateLimitStatus(limit=100, remaining=100 - used,
                           reset_at=NOW + regain if regain else None, percent=True)


def test_a_roomy_budget_keeps_the_regular_interval() -> None:
    assert pacing.next_poll(x_window(250, limit=300), 1, MINUTE, NOW) is None


def test_what_is_left_is_spread_until_the_reset() -> None:
    """5 DM lookups left for 15 minutes, a pull costing 1: one every 3 minutes, not every
    minute (which would spend them in 5 and meet a 429 for the other 10)."""
    assert pacing.next_poll(x_window(5), 1, MINUTE, NOW) == NOW + 3 * MINUTE


def test_a_pull_of_several_pages_costs_as_many_requests() -> None:
    assert pacing.next_poll(x_window(6), 2, MINUTE, NOW) == NOW + 5 * MINUTE


def test_a_spent_budget_waits_for_its_reset() -> None:
    assert pacing.next_poll(x_window(0), 1, MINUTE, NOW) == NOW + 15 * MINUTE


def test_a_window_that_has_turned_since_says_nothing() -> None:
    assert pacing.next_poll(x_window(0, reset_in=-MINUTE), 1, MINUTE, NOW) is None


def test_the_daily_cap_paces_when_it_is_the_tighter_rate() -> None:
    """200 left in 15 minutes, but 96 left for 24 hours: one poll every 15 minutes."""
    quarter = x_window(200, limit=300)
    day = x_window(96, limit=1000, reset_in=timedelta(hours=24))
    budget = RateLimitStatus(300, 96, day.reset_at, windows=(quarter, day))
    assert pacing.next_poll(budget, 1, MINUTE, NOW) == NOW + 15 * MINUTE
    assert pacing.budget_spent(budget) is False


def test_a_graph_quota_past_80_percent_doubles_the_interval() -> None:
    assert pacing.next_poll(graph(79), 1, MINUTE, NOW) is None
    assert pacing.next_poll(graph(85), 1, MINUTE, NOW) == NOW + 2 * MINUTE


def test_a_spent_graph_quota_waits_for_the_regain_time_or_5_minutes_doubling() -> None:
    assert pacing.next_poll(graph(100, regain=30 * MINUTE), 1, MINUTE, NOW) == NOW + 30 * MINUTE
    assert [pacing.next_poll(graph(100), 1, MINUTE, NOW, times) for times in (1, 2, 3, 6)] == [
        NOW + 5 * MINUTE, NOW + 10 * MINUTE, NOW + 20 * MINUTE, NOW + 60 * MINUTE]


def test_spent_budgets_and_their_refill() -> None:
    assert pacing.budget_spent(x_window(0)) and not pacing.budget_spent(x_window(1))
    assert not pacing.budget_spent(None)
    assert pacing.spent_until(x_window(0)) == NOW + 15 * MINUTE
    assert pacing.spent_until(graph(100)) is None


def test_the_stored_budget_reads_back_with_every_window() -> None:
    quarter, day = x_window(7), x_window(3, limit=1000, reset_in=timedelta(hours=24))
    budget = RateLimitStatus(1000, 3, day.reset_at, windows=(quarter, day))
    assert pacing.from_text(pacing.to_text(budget)) == budget
    assert pacing.from_text(pacing.to_text(graph(85))) == graph(85)
    assert pacing.from_text("not json") is None and pacing.from_text(None) is None


def test_the_log_note_names_the_tightest_window() -> None:
    rome = ZoneInfo("Europe/Rome")  # the desk's zone names the reset, in its own time
    assert pacing.describe(x_window(7), rome) == "7 of 15 left until 11:15:00 CET"
    assert pacing.describe(graph(85), rome) == "85 % used"


def test_a_pull_costs_what_its_window_lost_since_the_last_one() -> None:
    """A DM pull of one page that took two requests, or a cron sync between two polls:
    the window's own count says what was spent."""
    assert pacing.requests_spent(x_window(9), x_window(6)) == 3
    assert pacing.requests_spent(None, x_window(6)) == 0
    assert pacing.requests_spent(x_window(2), x_window(14, reset_in=30 * MINUTE)) == 0
    assert pacing.requests_spent(graph(10), graph(30)) == 0
