"""What the freshness benchmark relies on: X's `max_results` bounds on DM lookups, the
answers counted per endpoint, and live customers at a steady rate."""

from __future__ import annotations

import time
from itertools import pairwise

from sandbox_helpers import mentions, x_get

from socialdesk.sandbox import SandboxServer


def test_dm_lookup_returns_as_many_events_as_asked_from_1_to_100(
    big_sandbox: SandboxServer,
) -> None:
    """X accepts 1 to 100 (tweepy's docstring): a quiet poll may ask for one event."""
    for size in (1, 2, 7, 50):
        body = x_get(big_sandbox, "/2/dm_events", max_results=size).json()
        assert len(body["data"]) == size
    assert x_get(big_sandbox, "/2/dm_events", max_results=100).status_code == 200
    for refused in (0, 101):
        response = x_get(big_sandbox, "/2/dm_events", max_results=refused)
        assert response.status_code == 400
        assert "is not between 1 and 100" in response.json()["errors"][0]["message"]


def test_answers_are_counted_per_endpoint_with_the_resources_they_returned(
    big_sandbox: SandboxServer,
) -> None:
    x_get(big_sandbox, "/2/dm_events", max_results=3)
    x_get(big_sandbox, "/2/dm_events", max_results=5)
    mentions(big_sandbox, max_results=10)
    counts = big_sandbox.traffic.counts()
    assert (counts["x.dm_events"].requests, counts["x.dm_events"].resources) == (2, 8)
    assert counts["x.dm_events"].distinct == 5, "the 3 newest were returned twice"
    assert (counts["x.mentions"].requests, counts["x.mentions"].resources) == (1, 10)
    big_sandbox.traffic.reset()
    assert big_sandbox.traffic.counts() == {}


def test_each_dm_page_served_is_kept_with_what_was_asked(big_sandbox: SandboxServer) -> None:
    """The freshness benchmark puts every DM event returned down to the poll that read it."""
    first = x_get(big_sandbox, "/2/dm_events", max_results=2).json()
    x_get(big_sandbox, "/2/dm_events", max_results=3,
          pagination_token=first["meta"]["next_token"])
    mentions(big_sandbox, max_results=10)
    pages = big_sandbox.traffic.pages("x.dm_events")
    assert [(p.max_results, p.followed_token, len(p.ids)) for p in pages] == [
        (2, False, 2), (3, True, 3)]
    assert list(pages[0].ids) == [event["id"] for event in first["data"]]
    assert big_sandbox.traffic.pages("x.mentions") == [], "only the DM list is kept"
    big_sandbox.traffic.reset()
    assert big_sandbox.traffic.pages("x.dm_events") == []


def test_a_rate_limited_request_counts_as_refused() -> None:
    with SandboxServer(seed=1, static=True, messages=30,
                       rate_limits={"x.dm_events": 1}) as server:
        assert x_get(server, "/2/dm_events").status_code == 200
        assert x_get(server, "/2/dm_events").status_code == 429
        counts = server.traffic.counts()["x.dm_events"]
        assert (counts.requests, counts.refused) == (2, 1)


def test_live_customers_arrive_at_a_steady_rate_from_start_live() -> None:
    with SandboxServer(seed=2, static=True, messages=10) as server:
        time.sleep(0.3)
        assert server.traffic.arrivals() == {}, "a static sandbox writes nothing by itself"
        server.start_live(0.1)
        time.sleep(1.05)
        server.stop_live()
        arrivals = sorted(server.traffic.arrivals().values())
        assert 8 <= len(arrivals) <= 11
        gaps = [(b - a).total_seconds() for a, b in pairwise(arrivals)]
        assert all(0.05 < gap < 0.2 for gap in gaps), gaps
        time.sleep(0.3)
        assert len(server.traffic.arrivals()) == len(arrivals), "stop_live stops the writes"
        live = {key for key in server.traffic.arrivals()}
        state = {(item["platform"], item["id"]) for item in server.state()["items"]}
        assert live <= state
