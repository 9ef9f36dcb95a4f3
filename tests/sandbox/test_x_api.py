"""X API v2 behaviour: mentions paging, DM events, writes and their effect on state."""

from __future__ import annotations

import requests
from sandbox_helpers import items, mentions, x_get, x_send

from socialdesk.sandbox import X_USER_ID, SandboxServer


def _walk_mentions(server: SandboxServer, **params: object) -> list[dict]:
    seen, token = [], None
    while True:
        query = {**params, **({"pagination_token": token} if token else {})}
        body = mentions(server, **query).json()
        seen += body.get("data", [])
        token = body["meta"].get("next_token")
        if not token:
            return seen


def test_walking_all_mention_pages_gives_every_mention_exactly_once(sandbox: SandboxServer) -> None:
    walked = _walk_mentions(sandbox, max_results=5)
    expected = {i["id"] for i in items(sandbox, "mention")}
    assert [t["id"] for t in walked] == sorted(expected, key=int, reverse=True)


def test_mentions_are_newest_first_with_newest_and_oldest_in_meta(sandbox: SandboxServer) -> None:
    body = mentions(sandbox, max_results=10).json()
    ids = [int(t["id"]) for t in body["data"]]
    assert ids == sorted(ids, reverse=True)
    assert body["meta"]["newest_id"] == body["data"][0]["id"]
    assert body["meta"]["oldest_id"] == body["data"][-1]["id"]
    assert body["meta"]["result_count"] == len(body["data"])


def test_mentions_since_id_returns_only_newer_posts(sandbox: SandboxServer) -> None:
    all_ids = [t["id"] for t in _walk_mentions(sandbox, max_results=100)]
    pivot = all_ids[5]
    newer = _walk_mentions(sandbox, since_id=pivot, max_results=5)
    assert [t["id"] for t in newer] == all_ids[:5]


def test_mentions_since_newest_id_is_an_empty_page_without_data(sandbox: SandboxServer) -> None:
    newest = mentions(sandbox).json()["meta"]["newest_id"]
    assert mentions(sandbox, since_id=newest).json() == {"meta": {"result_count": 0}}


def test_new_mention_after_since_id_is_the_only_result(sandbox: SandboxServer) -> None:
    newest = mentions(sandbox).json()["meta"]["newest_id"]
    while not any(i["channel"] == "mention" for i in sandbox.generate(1)):
        pass
    body = mentions(sandbox, since_id=newest).json()
    assert body["meta"]["result_count"] == 1
    assert int(body["data"][0]["id"]) > int(newest)


def test_mentions_reach_only_the_800_newest() -> None:
    with SandboxServer(seed=5, static=True, messages=3000) as server:
        total = len(items(server, "mention"))
        assert total > 800
        assert len(_walk_mentions(server, max_results=100)) == 800


def test_mentions_max_results_outside_5_to_100_is_invalid_request(sandbox: SandboxServer) -> None:
    response = mentions(sandbox, max_results=3)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Invalid Request"


def test_mentions_expand_authors_into_includes_users(sandbox: SandboxServer) -> None:
    body = mentions(sandbox, expansions="author_id", **{"tweet.fields": "author_id"}).json()
    users = {u["id"]: u for u in body["includes"]["users"]}
    assert all(t["author_id"] in users for t in body["data"])
    assert set(next(iter(users.values()))) == {"id", "name", "username"}


def test_thread_replies_carry_replied_to_and_the_root_conversation(sandbox: SandboxServer) -> None:
    body = _walk_mentions(
        sandbox, max_results=100, **{"tweet.fields": "conversation_id,referenced_tweets"}
    )
    replies = [t for t in body if "referenced_tweets" in t]
    assert replies
    state = {i["id"]: i for i in sandbox.state()["items"] if i["platform"] == "x"}
    for tweet in replies:
        parent = tweet["referenced_tweets"][0]
        assert parent["type"] == "replied_to"
        assert state[parent["id"]]["thread_id"] == tweet["conversation_id"]
        assert state[tweet["conversation_id"]]["parent_id"] is None


def test_missing_authorization_is_401_problem(sandbox: SandboxServer) -> None:
    response = requests.get(f"{sandbox.base_url}/2/users/{X_USER_ID}/mentions", timeout=5)
    assert response.status_code == 401
    assert response.json() == {
        "title": "Unauthorized",
        "detail": "Unauthorized",
        "type": "about:blank",
        "status": 401,
    }


def test_dm_events_are_newest_first_and_include_echoes_and_joins(sandbox: SandboxServer) -> None:
    body = x_get(
        sandbox,
        "/2/dm_events",
        **{
            "dm_event.fields": "sender_id,created_at,dm_conversation_id,participant_ids",
            "expansions": "sender_id",
        },
    ).json()
    events = body["data"]
    assert [int(e["id"]) for e in events] == sorted((int(e["id"]) for e in events), reverse=True)
    assert any(e["sender_id"] == X_USER_ID for e in events)
    joins = [e for e in events if e["event_type"] == "ParticipantsJoin"]
    assert all("text" not in e and e["participant_ids"] for e in joins)
    for event in events:
        if "-" in event["dm_conversation_id"]:
            low, high = event["dm_conversation_id"].split("-")
            assert int(low) < int(high) and X_USER_ID in (low, high)


def test_dm_events_refuse_since_id_as_the_real_api_does(sandbox: SandboxServer) -> None:
    response = x_get(sandbox, "/2/dm_events", since_id="1")
    assert response.status_code == 400
    assert "since_id" in response.json()["errors"][0]["message"]


def test_dm_events_pages_cover_every_event_once(sandbox: SandboxServer) -> None:
    seen, token = [], None
    while True:
        body = x_get(
            sandbox, "/2/dm_events", max_results=7, **({"pagination_token": token} if token else {})
        ).json()
        if "data" not in body:
            break
        seen += [e["id"] for e in body["data"]]
        token = body["meta"]["next_token"]
    assert sorted(seen) == sorted(i["id"] for i in sandbox.state()["items"] if i["channel"] == "dm")
    assert len(seen) == len(set(seen))


def test_reply_tweet_shows_in_state_and_not_in_mentions(sandbox: SandboxServer) -> None:
    mention = items(sandbox, "mention")[-1]
    response = x_send(
        sandbox,
        "POST",
        "/2/tweets",
        {
            "text": "Ciao! Ti abbiamo scritto in privato.",
            "reply": {"in_reply_to_tweet_id": mention["id"]},
        },
    )
    assert response.status_code == 201
    created = response.json()["data"]
    assert created["edit_history_tweet_ids"] == [created["id"]]
    state = sandbox.state()
    item = next(i for i in state["items"] if i["id"] == created["id"])
    assert (item["parent_id"], item["thread_id"]) == (mention["id"], mention["thread_id"])
    assert state["actions"][-1] | {"ok": True} == state["actions"][-1]
    assert state["actions"][-1]["assigned_id"] == created["id"]
    assert created["id"] not in {t["id"] for t in _walk_mentions(sandbox, max_results=100)}


def test_duplicate_reply_text_is_refused_like_x(sandbox: SandboxServer) -> None:
    first, second = items(sandbox, "mention")[:2]
    body = {"text": "Ti abbiamo scritto in privato."}
    ok = x_send(
        sandbox, "POST", "/2/tweets", {**body, "reply": {"in_reply_to_tweet_id": first["id"]}}
    )
    again = x_send(
        sandbox, "POST", "/2/tweets", {**body, "reply": {"in_reply_to_tweet_id": second["id"]}}
    )
    assert ok.status_code == 201 and again.status_code == 403
    assert "duplicate" in again.json()["detail"]
    assert sandbox.state()["actions"][-1]["ok"] is False


def test_reply_to_unknown_post_is_forbidden(sandbox: SandboxServer) -> None:
    response = x_send(
        sandbox, "POST", "/2/tweets", {"text": "hi", "reply": {"in_reply_to_tweet_id": "42"}}
    )
    assert response.status_code == 403


def test_dm_send_appears_in_later_dm_events(sandbox: SandboxServer) -> None:
    customer = items(sandbox, "mention")[0]["author_id"]
    response = x_send(
        sandbox,
        "POST",
        f"/2/dm_conversations/with/{customer}/messages",
        {"text": "Ciao, scrivici qui il numero d'ordine."},
    )
    created = response.json()["data"]
    assert response.status_code == 201
    assert created["dm_conversation_id"] == "-".join(sorted((customer, X_USER_ID), key=int))
    assert response.headers["location"].endswith(f'/2/dm_events/"{created["dm_event_id"]}"')
    newest = x_get(sandbox, "/2/dm_events", **{"dm_event.fields": "sender_id"}).json()["data"][0]
    assert (newest["id"], newest["sender_id"]) == (created["dm_event_id"], X_USER_ID)


def test_hide_reply_under_brand_post_sets_hidden_in_state(big_sandbox: SandboxServer) -> None:
    state = big_sandbox.state()["items"]
    brand_roots = {
        i["id"]
        for i in state
        if i["channel"] == "post" and i["platform"] == "x" and i["parent_id"] is None
    }
    reply = next(i for i in state if i["thread_id"] in brand_roots and i["direction"] == "inbound")
    response = x_send(big_sandbox, "PUT", f"/2/tweets/{reply['id']}/hidden", {"hidden": True})
    assert response.status_code == 200 and response.json() == {"data": {"hidden": True}}
    assert next(i for i in big_sandbox.state()["items"] if i["id"] == reply["id"])["hidden"] is True
    assert big_sandbox.state()["actions"][-1]["kind"] == "x.hide"


def test_hide_a_mention_that_is_not_a_reply_to_the_brand_is_forbidden(
    sandbox: SandboxServer,
) -> None:
    root = next(i for i in items(sandbox, "mention") if i["thread_id"] == i["id"])
    response = x_send(sandbox, "PUT", f"/2/tweets/{root['id']}/hidden", {"hidden": True})
    assert response.status_code == 403


def test_users_me_is_the_brand_account(sandbox: SandboxServer) -> None:
    body = x_get(sandbox, "/2/users/me").json()
    assert body["data"]["id"] == X_USER_ID
