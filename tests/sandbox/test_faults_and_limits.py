"""Injected faults and rate limits, through `inject()` and the control endpoints."""

from __future__ import annotations

import json
import time

import pytest
import requests
from sandbox_helpers import graph_get, mentions, page_path, x_get

from socialdesk.sandbox import Fault, SandboxServer


def test_x_mentions_answer_429_after_the_budget() -> None:
    with SandboxServer(static=True, rate_limits={"x.mentions": 3}) as server:
        answers = [mentions(server) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-rate-limit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[3].json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }
    reset = int(answers[3].headers["x-rate-limit-reset"])
    assert 0 < reset - time.time() <= 15 * 60


def test_x_limits_default_to_current_per_user_limits(sandbox: SandboxServer) -> None:
    assert mentions(sandbox).headers["x-rate-limit-limit"] == "300"
    assert x_get(sandbox, "/2/dm_events").headers["x-rate-limit-limit"] == "15"


def test_unknown_rate_limit_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown rate limit"):
        SandboxServer(rate_limits={"x.mentionz": 1})


def test_rate_limit_fault_gives_429_with_zero_remaining(sandbox: SandboxServer) -> None:
    sandbox.inject(Fault("x.mentions", "rate_limit"))
    limited, after = mentions(sandbox), mentions(sandbox)
    assert limited.status_code == 429 and limited.headers["x-rate-limit-remaining"] == "0"
    assert after.status_code == 200


def test_fault_applies_to_the_next_count_matching_requests_only(sandbox: SandboxServer) -> None:
    sandbox.inject({"target": "x.*", "kind": "server_error", "count": 2})
    assert graph_get(sandbox, page_path("feed")).status_code == 200  # not matching
    statuses = [
        mentions(sandbox).status_code,
        x_get(sandbox, "/2/dm_events").status_code,
        mentions(sandbox).status_code,
    ]
    assert statuses == [503, 503, 200]


def test_x_expired_token_fault_is_401(sandbox: SandboxServer) -> None:
    sandbox.inject(Fault("x.dm_events", "expired_token"))
    response = x_get(sandbox, "/2/dm_events")
    assert response.status_code == 401 and response.json()["title"] == "Unauthorized"


def test_timeout_fault_closes_without_answering(sandbox: SandboxServer) -> None:
    sandbox.inject(Fault("x.mentions", "timeout"))
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(
            f"{sandbox.base_url}/2/users/1/mentions",
            headers={"Authorization": "Bearer x"},
            timeout=0.2,
        )
    sandbox.inject(Fault("facebook.feed", "timeout"))
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{sandbox.base_url}/v25.0/me/feed?access_token=x", timeout=3)


def test_malformed_fault_breaks_one_item_beside_good_ones(sandbox: SandboxServer) -> None:
    sandbox.inject(Fault("x.mentions", "malformed", count=3))
    broken = []
    for _ in range(3):
        data = mentions(sandbox, **{"tweet.fields": "created_at"}).json()["data"]
        bad = [
            t for t in data if "id" not in t or "text" not in t or not t["created_at"].endswith("Z")
        ]
        assert len(bad) == 1 and len(data) == 10
        broken.append(bad[0])
    assert "id" not in broken[0] and "text" not in broken[1]
    assert broken[2]["created_at"] == "31/02/2026 25:61"
    assert "id" in mentions(sandbox).json()["data"][5]


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("rate_limit", 400, 4), ("server_error", 500, 2), ("expired_token", 400, 190)],
)
def test_graph_faults_use_graph_error_codes(
    sandbox: SandboxServer, kind: str, status: int, code: int
) -> None:
    sandbox.inject(Fault("facebook.comments", kind))
    post = next(i["post_id"] for i in sandbox.state()["items"] if i["channel"] == "comment")
    response = graph_get(sandbox, f"/{post}/comments")
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (status, code)
    assert "fbtrace_id" in error
    if kind == "expired_token":
        assert error["error_subcode"] == 463 and "WWW-Authenticate" in response.headers
    if kind == "rate_limit":
        assert error["is_transient"] is True
        assert json.loads(response.headers["X-App-Usage"])["call_count"] == 100


def test_graph_malformed_fault_breaks_one_feed_post(sandbox: SandboxServer) -> None:
    sandbox.inject(Fault("facebook.*", "malformed"))
    data = graph_get(sandbox, page_path("feed"), limit=5).json()["data"]
    assert sum("id" not in p for p in data) == 1 and len(data) == 5


def test_faults_can_be_posted_listed_and_cleared_over_http(sandbox: SandboxServer) -> None:
    url = f"{sandbox.base_url}/__sandbox__/faults"
    posted = requests.post(
        url, json={"target": "facebook.feed", "kind": "server_error", "count": 5}, timeout=5
    )
    assert posted.status_code == 201
    assert sandbox.state()["faults"] == [
        {"target": "facebook.feed", "kind": "server_error", "count": 5}
    ]
    assert graph_get(sandbox, page_path("feed")).status_code == 500
    assert requests.delete(url, timeout=5).json() == {"pending": []}
    assert graph_get(sandbox, page_path("feed")).status_code == 200


def test_invalid_fault_is_a_400_over_http(sandbox: SandboxServer) -> None:
    response = requests.post(
        f"{sandbox.base_url}/__sandbox__/faults",
        json={"target": "x.mentions", "kind": "gremlins"},
        timeout=5,
    )
    assert response.status_code == 400 and "gremlins" in response.json()["error"]


def test_numeric_ids_fault_sends_every_author_id_as_a_float(sandbox: SandboxServer) -> None:
    sandbox.inject(Fault("x.mentions", "numeric_ids"))
    sandbox.inject(Fault("facebook.feed", "numeric_ids"))
    tweets = mentions(sandbox, **{"tweet.fields": "author_id"}).json()["data"]
    posts = graph_get(sandbox, page_path("feed"), limit=25,
                      fields="id,from,comments{id,from}").json()["data"]
    authors = [p["from"]["id"] for p in posts] + [
        c["from"]["id"] for p in posts for c in p.get("comments", {}).get("data", [])
        if "from" in c]
    assert tweets and all(isinstance(t["author_id"], float) for t in tweets)
    assert len(authors) > len(posts) and all(isinstance(a, float) for a in authors)
    after = mentions(sandbox, **{"tweet.fields": "author_id"}).json()["data"]
    assert all(isinstance(t["author_id"], str) for t in after)


def test_non_string_text_fault_sends_every_text_as_a_number(sandbox: SandboxServer) -> None:
    sandbox.inject(Fault("facebook.feed", "non_string_text"))
    posts = graph_get(sandbox, page_path("feed"), limit=25,
                      fields="id,message,comments{id,message}").json()["data"]
    texts = [p["message"] for p in posts if "message" in p] + [
        c["message"] for p in posts for c in p.get("comments", {}).get("data", [])]
    assert texts and all(isinstance(text, int) for text in texts)


def test_broken_parent_fault_breaks_the_first_post_with_comments_not_its_comments(
    sandbox: SandboxServer,
) -> None:
    sandbox.inject(Fault("facebook.feed", "broken_parent", count=2))
    fields = "id,created_time,comments{id,created_time}"
    first = graph_get(sandbox, page_path("feed"), limit=25, fields=fields).json()["data"]
    second = graph_get(sandbox, page_path("feed"), limit=25, fields=fields).json()["data"]
    broken_time = [p for p in first if p["created_time"] == "31/02/2026 25:61"]
    without_id = [p for p in second if "id" not in p]
    assert len(broken_time) == 1 and len(without_id) == 1
    for post in (broken_time[0], without_id[0]):
        assert post["comments"]["data"]
        assert all("id" in c and c["created_time"].endswith("+0000")
                   for c in post["comments"]["data"])
