"""The shared HTTP policy: where requests may go, timeouts, retries, headers, redaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
from replay import Recorded, ReplayServer

from connectors._http import (
    DEFAULT_TIMEOUT,
    REDACTED,
    BaseUrlAdapter,
    Redactor,
    RetryPolicy,
    TransientFailure,
)
from connectors.base import ConfigurationError, MalformedPayload, RetriableAPIError
from connectors.rate_headers import (
    graph_rate_limit,
    graph_usage,
    x_daily_exhausted_reset,
    x_rate_limit,
)


@pytest.mark.parametrize("base_url", [
    "http://127.0.0.1:8080", "http://127.9.9.9", "http://localhost:1234/graph",
    "http://[::1]:8080", "https://sandbox.example.com", None,
])
def test_accepted_base_urls(base_url: str | None) -> None:
    BaseUrlAdapter(base_url)


@pytest.mark.parametrize("base_url", [
    "http://10.0.0.5:8080", "http://sandbox.example.com", "http://127.0.0.1.nip.io",
    "ftp://127.0.0.1", "127.0.0.1:8080", "https://host.example/?token=1",
])
def test_refused_base_urls(base_url: str) -> None:
    with pytest.raises(ConfigurationError):
        BaseUrlAdapter(base_url)


def test_adapter_rehosts_under_the_base_path_and_keeps_the_query(
    replay_server: ReplayServer,
) -> None:
    replay_server.add_json("GET", "/prefix/2/users/1/mentions", {"ok": True})
    session = requests.Session()
    session.mount("https://api.twitter.com", BaseUrlAdapter(replay_server.base_url + "/prefix/"))
    response = session.get("https://api.twitter.com/2/users/1/mentions?since_id=5")

    assert response.json() == {"ok": True}
    (seen,) = replay_server.requests
    assert (seen.path, seen.param("since_id")) == ("/prefix/2/users/1/mentions", "5")


def test_adapter_sets_a_timeout_when_the_caller_gave_none(replay_server: ReplayServer) -> None:
    replay_server.add("GET", "/slow", Recorded(200, {}, b"{}", delay=1.0))
    session = requests.Session()
    session.mount("https://api.twitter.com", BaseUrlAdapter(replay_server.base_url, (0.5, 0.1)))
    with pytest.raises(requests.ReadTimeout):
        session.get("https://api.twitter.com/slow")
    assert BaseUrlAdapter(None).timeout == DEFAULT_TIMEOUT


def test_body_cut_short_on_the_wire_is_a_retriable_network_error(
    replay_server: ReplayServer,
) -> None:
    for _ in range(3):
        replay_server.add("GET", "/cut", Recorded(200, {}, b'{"data": [', declared_length=500))
    session = requests.Session()
    session.mount("https://graph.facebook.com", BaseUrlAdapter(replay_server.base_url))
    sleeps: list[float] = []
    policy = RetryPolicy(sleep=sleeps.append)
    with pytest.raises(RetriableAPIError):
        policy.run(lambda: session.get("https://graph.facebook.com/cut"), "cut", Redactor([]))
    assert len(replay_server.requests) == 3 and len(sleeps) == 2


def test_retry_policy_raises_the_failure_it_was_given_after_the_last_attempt() -> None:
    calls: list[int] = []

    def always_malformed() -> None:
        calls.append(1)
        raise TransientFailure(MalformedPayload("bad body"))

    policy = RetryPolicy(attempts=4, sleep=lambda _: None)
    with pytest.raises(MalformedPayload, match="bad body"):
        policy.run(always_malformed, "x", Redactor([]))
    assert len(calls) == 4


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    low = RetryPolicy(jitter=lambda: 0.0, max_delay=4)
    high = RetryPolicy(jitter=lambda: 1.0, max_delay=4)
    assert [low.delay(n) for n in range(5)] == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert [high.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]


def test_x_rate_limit_reports_the_tighter_daily_cap() -> None:
    headers = {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "200",
               "x-rate-limit-reset": "1795176900",
               "x-app-limit-24hour-limit": "10000", "x-app-limit-24hour-remaining": "3",
               "x-app-limit-24hour-reset": "1795233600"}
    status = x_rate_limit(headers)
    assert status is not None
    assert (status.limit, status.remaining) == (10000, 3)
    assert x_daily_exhausted_reset(headers) is None
    headers["x-app-limit-24hour-remaining"] = "0"
    assert x_daily_exhausted_reset(headers) == datetime.fromtimestamp(1795233600, UTC)


def test_x_rate_limit_keeps_every_window_so_the_core_can_pace_by_each() -> None:
    """200 left in 15 minutes looks roomier than 900 left in a day, but the day's 900 last
    only one request every 96 s: the pace needs both windows, not only the smaller count."""
    headers = {"x-rate-limit-limit": "300", "x-rate-limit-remaining": "200",
               "x-rate-limit-reset": "1795176900",
               "x-user-limit-24hour-limit": "1000", "x-user-limit-24hour-remaining": "900",
               "x-user-limit-24hour-reset": "1795233600"}
    status = x_rate_limit(headers)
    assert status is not None and not status.percent
    assert [(w.limit, w.remaining, w.reset_at) for w in status.windows] == [
        (300, 200, datetime.fromtimestamp(1795176900, UTC)),
        (1000, 900, datetime.fromtimestamp(1795233600, UTC)),
    ]


def test_graph_usage_is_a_shared_percentage() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    status = graph_rate_limit(graph_usage({"x-app-usage": json.dumps({"call_count": 85})}), now)
    assert status is not None and status.percent
    assert (status.limit, status.remaining, status.reset_at) == (100, 15, None)


def test_x_rate_limit_is_none_without_headers() -> None:
    assert x_rate_limit({}) is None


def test_graph_usage_takes_the_highest_figure_across_headers() -> None:
    headers = {
        "x-app-usage": json.dumps({"call_count": 10, "total_time": 20, "total_cputime": 5}),
        "x-business-use-case-usage": json.dumps({"1000": [
            {"type": "pages", "call_count": 40, "total_time": 92, "total_cputime": 7,
             "estimated_time_to_regain_access": 3}]}),
        "x-page-usage": "not json",
    }
    usage = graph_usage(headers)
    assert (usage.percent, usage.regain_minutes) == (92, 3)
    assert graph_usage({}).percent is None


def test_redactor_removes_secrets_and_credential_shapes() -> None:
    redactor = Redactor(["s3cr3t-token-value", "x"])
    text = redactor.redact(
        "GET /v25.0/1/feed?fields=id&access_token=EAAGother&limit=2 failed; "
        "headers {'Authorization': 'Bearer AAAAabc', 'User-Agent': 'u'} "
        'OAuth oauth_token="9000-abc", oauth_signature="sig%3D" '
        "and s3cr3t-token-value again"
    )
    for leaked in ("EAAGother", "AAAAabc", "9000-abc", "sig%3D", "s3cr3t-token-value"):
        assert leaked not in text
    assert "access_token=" + REDACTED in text
    assert "limit=2" in text and "User-Agent" in text
