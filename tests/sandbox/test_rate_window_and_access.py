"""`--rate-window`, the X app's access level and the repeating-token fault."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sandbox_helpers import X_AUTH, graph_get, mentions, page_path, x_get, x_send

from socialdesk.sandbox import Fault, SandboxServer
from socialdesk.sandbox.limits import RateLimiter

OAUTH1_PERMISSIONS = "https://api.x.com/2/problems/oauth1-permissions"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_short_rate_window_resets_the_x_budget_after_those_seconds() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"x.dm_events": 2}, clock, window_seconds=3)
    spent = [limiter.spend("x.dm_events") for _ in range(3)]
    assert [b.exceeded for b in spent] == [False, False, True]
    assert spent[2].reset == int(clock.now.timestamp()) + 3
    clock.now += timedelta(seconds=3)
    assert not limiter.spend("x.dm_events").exceeded


def test_a_short_rate_window_also_shortens_the_graph_budget_and_its_regain_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"facebook": 1}, clock, window_seconds=90)
    assert [limiter.graph_call()[1] for _ in range(2)] == [False, True]
    assert limiter.graph_regain_minutes == 2, "Graph counts in whole minutes"
    clock.now += timedelta(seconds=91)
    assert limiter.graph_call()[1] is False
    assert RateLimiter(None, clock).graph_regain_minutes == 60


def test_a_spent_graph_budget_names_the_short_regain_time() -> None:
    with SandboxServer(static=True, rate_limits={"facebook": 1}, rate_window=60) as server:
        graph_get(server, page_path("feed"))
        refused = graph_get(server, page_path("feed"))
    assert refused.json()["error"]["code"] == 32
    usage = refused.headers["X-Business-Use-Case-Usage"]
    assert '"estimated_time_to_regain_access":1' in usage


def test_the_rate_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1 second"):
        SandboxServer(rate_window=0)


def test_socialdesk_sandbox_rate_window_shortens_the_served_windows() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "sandbox", "--port", "0", "--static",
         "--messages", "5", "--rate-window", "4"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )
    try:
        assert process.stderr is not None
        url = process.stderr.readline().split()[-1]
        process.stderr.readline()
        assert "shortened to 4 s" in process.stderr.readline()
        info = requests.get(f"{url}/__sandbox__/info", timeout=5).json()
        assert info["rate_window_seconds"] == {"x": 4, "facebook": 4}
        answer = requests.get(f"{url}/2/dm_events", headers=X_AUTH, timeout=5)
        assert 0 < int(answer.headers["x-rate-limit-reset"]) - time.time() <= 4
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert process.returncode == 0


def test_the_x_access_level_header_names_the_configured_permission() -> None:
    with SandboxServer(static=True, x_access_level="read-write") as server:
        answer = mentions(server)
        bearer = requests.get(f"{server.base_url}/2/users/me", timeout=5,
                              headers={"Authorization": "Bearer app-only"})
    assert answer.headers["x-access-level"] == "read-write"
    assert bearer.headers["x-access-level"] == "read"


def test_an_app_without_the_dm_permission_is_refused_dms_with_xs_problem() -> None:
    with SandboxServer(static=True, x_access_level="read-write") as server:
        read = x_get(server, "/2/dm_events")
        sent = x_send(server, "POST", "/2/dm_conversations/with/1/messages", {"text": "hi"})
        reply = x_send(server, "POST", "/2/tweets", {"text": "a brand new post"})
    for refused in (read, sent):
        assert refused.status_code == 403
        assert refused.json()["type"] == OAUTH1_PERMISSIONS
        assert "oauth1 app permissions" in refused.json()["detail"]
    assert reply.status_code == 201


def test_a_read_only_app_is_refused_every_write(sandbox: SandboxServer) -> None:
    sandbox.x.access_level = "read"
    refused = x_send(sandbox, "POST", "/2/tweets", {"text": "a brand new post"})
    assert refused.status_code == 403 and refused.json()["type"] == OAUTH1_PERMISSIONS
    assert mentions(sandbox).status_code == 200


def test_an_unknown_access_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown X access level"):
        SandboxServer(x_access_level="admin")


def test_repeat_token_hands_back_the_token_the_page_was_asked_with(
    big_sandbox: SandboxServer,
) -> None:
    big_sandbox.inject(Fault("x.dm_events", "repeat_token"))
    first = x_get(big_sandbox, "/2/dm_events", max_results=5).json()["meta"]["next_token"]
    second = x_get(big_sandbox, "/2/dm_events", max_results=5,
                   pagination_token=first).json()["meta"]["next_token"]
    third = x_get(big_sandbox, "/2/dm_events", max_results=5,
                  pagination_token=second).json()["meta"]["next_token"]
    assert second == first, "the page after the first one names itself as the next page"
    assert third != first, "the fault applies once"
    assert big_sandbox.state()["faults"] == []


def test_repeat_token_applies_only_to_x_list_endpoints() -> None:
    with pytest.raises(ValueError, match="repeat_token applies to"):
        Fault("facebook.feed", "repeat_token")
