"""Graph API behaviour: feed and comments paging, conversations, writes, messaging windows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import requests
from sandbox_helpers import GRAPH, graph_get, graph_post, items, page_path

from socialdesk.sandbox import FACEBOOK_PAGE_ID, SandboxServer

COMMENT_FIELDS = "id,message,from,created_time,parent"
NESTED = f"comments.filter(stream).order(reverse_chronological).limit(2){{{COMMENT_FIELDS}}}"


def _walk(server: SandboxServer, path: str, **params: object) -> list[dict]:
    """Follow `paging.next` as an opaque URL, as the connector does."""
    body = graph_get(server, path, **params).json()
    found = list(body["data"])
    while "next" in body.get("paging", {}):
        body = requests.get(body["paging"]["next"], timeout=5).json()
        found += body["data"]
    return found


def _parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


def test_feed_walk_by_next_links_gives_page_and_visitor_posts_once(sandbox: SandboxServer) -> None:
    posts = _walk(sandbox, page_path("feed"), limit=3, fields="id,from,created_time")
    expected = {
        i["id"]
        for i in sandbox.state()["items"]
        if i["channel"] in ("post", "visitor_post") and i["platform"] == "facebook"
    }
    assert sorted(p["id"] for p in posts) == sorted(expected)
    times = [_parse(p["created_time"]) for p in posts]
    assert times == sorted(times, reverse=True)
    assert any(p["from"]["id"] != FACEBOOK_PAGE_ID for p in posts)


def test_feed_next_link_is_on_the_sandbox_host_with_the_token(sandbox: SandboxServer) -> None:
    body = graph_get(sandbox, page_path("feed"), limit=2).json()
    assert body["paging"]["next"].startswith(f"{sandbox.base_url}{GRAPH}/{FACEBOOK_PAGE_ID}/feed?")
    assert "access_token=sandbox" in body["paging"]["next"]


def test_feed_since_filters_posts_by_creation_time(sandbox: SandboxServer) -> None:
    since = datetime.now(UTC) - timedelta(days=2)
    posts = _walk(
        sandbox, page_path("feed"), since=int(since.timestamp()), fields="id,created_time"
    )
    assert posts and all(_parse(p["created_time"]) >= since for p in posts)
    assert len(posts) < len(_walk(sandbox, page_path("feed")))


def test_feed_inlines_comments_honouring_limit_and_omits_them_when_none(
    sandbox: SandboxServer,
) -> None:
    posts = _walk(sandbox, page_path("feed"), fields=f"id,message,{NESTED}")
    with_comments = [p for p in posts if "comments" in p]
    assert with_comments and len(with_comments) < len(posts)
    for post in with_comments:
        assert 1 <= len(post["comments"]["data"]) <= 2
    crowded = next(p for p in with_comments if "next" in p["comments"]["paging"])
    rest = _walk(
        sandbox,
        f"/{crowded['id']}/comments",
        filter="stream",
        limit=2,
        order="reverse_chronological",
        fields=COMMENT_FIELDS,
    )
    inlined = crowded["comments"]["data"]
    following = requests.get(crowded["comments"]["paging"]["next"], timeout=5).json()["data"]
    assert [c["id"] for c in inlined + following] == [c["id"] for c in rest][
        : len(inlined + following)
    ]


def test_stream_comments_carry_parent_and_toplevel_hides_replies(sandbox: SandboxServer) -> None:
    replies = [i for i in sandbox.state()["items"] if i["channel"] == "comment" and i["parent_id"]]
    post = replies[0]["post_id"]
    stream = _walk(sandbox, f"/{post}/comments", filter="stream", fields=COMMENT_FIELDS)
    toplevel = _walk(sandbox, f"/{post}/comments", fields=COMMENT_FIELDS)
    assert any("parent" in c for c in stream)
    assert not any("parent" in c for c in toplevel)
    assert len(stream) > len(toplevel)


def test_some_comments_have_no_from_as_for_unreviewed_apps(big_sandbox: SandboxServer) -> None:
    hidden_authors = [
        i
        for i in big_sandbox.state()["items"]
        if i["channel"] == "comment" and not i["author_visible"]
    ]
    comment = hidden_authors[0]
    body = graph_get(big_sandbox, f"/{comment['id']}", fields="id,message,from").json()
    assert "from" not in body and body["id"] == comment["id"]


def test_reply_to_comment_is_a_page_comment_under_the_top_level_comment(
    sandbox: SandboxServer,
) -> None:
    comment = next(i for i in items(sandbox, "comment") if i["parent_id"] is None)
    response = graph_post(
        sandbox, f"/{comment['id']}/comments", message="Ti abbiamo scritto in privato"
    )
    new_id = response.json()["id"]
    assert response.status_code == 200 and new_id.startswith(comment["post_id"].split("_")[1] + "_")
    item = next(i for i in sandbox.state()["items"] if i["id"] == new_id)
    assert (item["author_id"], item["parent_id"], item["direction"]) == (
        FACEBOOK_PAGE_ID,
        comment["id"],
        "outbound",
    )
    listed = _walk(sandbox, f"/{comment['id']}/comments", fields="id,from,parent")
    assert any(c["id"] == new_id and c["from"]["id"] == FACEBOOK_PAGE_ID for c in listed)


def test_hidden_comment_is_still_listed_with_is_hidden(sandbox: SandboxServer) -> None:
    comment = items(sandbox, "comment")[0]
    assert graph_post(sandbox, f"/{comment['id']}", is_hidden="true").json() == {"success": True}
    listed = _walk(
        sandbox, f"/{comment['post_id']}/comments", filter="stream", fields="id,is_hidden"
    )
    assert {c["id"]: c["is_hidden"] for c in listed}[comment["id"]] is True
    assert sandbox.state()["actions"][-1]["kind"] == "facebook.hide"


def test_conversations_are_by_updated_time_with_participants_and_messages(
    sandbox: SandboxServer,
) -> None:
    conversations = _walk(
        sandbox,
        page_path("conversations"),
        platform="messenger",
        limit=3,
        fields="id,updated_time,participants,messages.limit(3){id,message,from,to,created_time}",
    )
    times = [_parse(c["updated_time"]) for c in conversations]
    assert times == sorted(times, reverse=True)
    for conversation in conversations:
        assert conversation["id"].startswith("t_")
        ids = {p["id"] for p in conversation["participants"]["data"]}
        assert FACEBOOK_PAGE_ID in ids and len(ids) == 2
        assert all(m["id"].startswith("m_") for m in conversation["messages"]["data"])


def test_conversation_messages_walk_newest_first(sandbox: SandboxServer) -> None:
    conversation = max(
        {i["thread_id"] for i in items(sandbox, "messenger")},
        key=lambda t: sum(i["thread_id"] == t for i in sandbox.state()["items"]),
    )
    messages = _walk(
        sandbox, f"/{conversation}/messages", limit=1, fields="id,message,from,to,created_time"
    )
    times = [_parse(m["created_time"]) for m in messages]
    assert len(messages) >= 2 and times == sorted(times, reverse=True)
    assert all("data" in m["to"] for m in messages)


def _send(server: SandboxServer, recipient: dict, text: str, **extra: str) -> requests.Response:
    return requests.post(
        f"{server.base_url}{GRAPH}/{FACEBOOK_PAGE_ID}/messages",
        params={"access_token": "sandbox"},
        json={"recipient": recipient, "message": {"text": text}, **extra},
        timeout=5,
    )


def test_private_reply_is_accepted_once_per_comment(sandbox: SandboxServer) -> None:
    now = datetime.now(UTC)
    comment = next(
        i
        for i in items(sandbox, "comment")
        if now - datetime.fromisoformat(i["created_at"]) < timedelta(days=6)
    )
    first = _send(sandbox, {"comment_id": comment["id"]}, "Ciao, ti scriviamo qui in privato.")
    again = _send(sandbox, {"comment_id": comment["id"]}, "Ancora noi.")
    assert first.status_code == 200
    assert first.json()["recipient_id"] == comment["author_id"]
    assert again.status_code == 400 and again.json()["error"]["code"] == 10
    sent = next(i for i in sandbox.state()["items"] if i["id"] == first.json()["message_id"])
    assert sent["channel"] == "messenger" and sent["direction"] == "outbound"
    kinds = [(a["kind"], a["ok"]) for a in sandbox.state()["actions"]]
    assert kinds == [("facebook.private_reply", True), ("facebook.private_reply", False)]


def test_private_reply_to_comment_older_than_7_days_is_refused() -> None:
    later = timedelta(0)

    def clock() -> datetime:
        return datetime.now(UTC) + later

    with SandboxServer(seed=3, static=True, messages=200, clock=clock) as server:
        server.start()
        later = timedelta(days=3)  # the static set is at most 6.4 days old: age it
        old = next(
            i
            for i in items(server, "comment")
            if clock() - datetime.fromisoformat(i["created_at"]) > timedelta(days=7, hours=1)
        )
        response = _send(server, {"comment_id": old["id"]}, "Ciao")
    assert response.status_code == 400
    assert response.json()["error"]["error_subcode"] == 2018278


def _last_inbound_by_person(server: SandboxServer) -> dict[str, datetime]:
    last: dict[str, datetime] = {}
    for item in items(server, "messenger"):
        at = datetime.fromisoformat(item["created_at"])
        last[item["author_id"]] = max(last.get(item["author_id"], at), at)
    return last


def test_response_outside_24_hours_is_refused_with_subcode_2018278(
    big_sandbox: SandboxServer,
) -> None:
    now = datetime.now(UTC)
    person = next(
        p
        for p, at in _last_inbound_by_person(big_sandbox).items()
        if timedelta(days=1, hours=1) < now - at < timedelta(days=6)
    )
    response = _send(big_sandbox, {"id": person}, "Ciao!", messaging_type="RESPONSE")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["error_subcode"]) == (10, 2018278)
    tagged = _send(
        big_sandbox,
        {"id": person},
        "Ciao, sono Marta del supporto.",
        messaging_type="MESSAGE_TAG",
        tag="HUMAN_AGENT",
    )
    assert tagged.status_code == 200


def test_response_inside_24_hours_appears_in_the_conversation(big_sandbox: SandboxServer) -> None:
    now = datetime.now(UTC)
    person = next(
        p
        for p, at in _last_inbound_by_person(big_sandbox).items()
        if now - at < timedelta(hours=23)
    )
    response = _send(big_sandbox, {"id": person}, "Eccoci!", messaging_type="RESPONSE")
    assert response.status_code == 200
    body = response.json()
    conversation = graph_get(
        big_sandbox, page_path("conversations"), user_id=person, fields="messages{id,message,from}"
    ).json()["data"][0]
    newest = conversation["messages"]["data"][0]
    assert (newest["id"], newest["message"], newest["from"]["id"]) == (
        body["message_id"],
        "Eccoci!",
        FACEBOOK_PAGE_ID,
    )


def test_send_api_accepts_form_encoded_json_fields(big_sandbox: SandboxServer) -> None:
    now = datetime.now(UTC)
    person = next(
        p
        for p, at in _last_inbound_by_person(big_sandbox).items()
        if now - at < timedelta(hours=23)
    )
    response = graph_post(
        big_sandbox,
        page_path("messages"),
        recipient=json.dumps({"id": person}),
        message=json.dumps({"text": "Ciao"}),
        messaging_type="RESPONSE",
    )
    assert response.status_code == 200, response.text


def test_graph_token_from_authorization_header_is_accepted(sandbox: SandboxServer) -> None:
    response = requests.get(
        f"{sandbox.base_url}/v19.0/me", timeout=5, headers={"Authorization": "Bearer anything"}
    )
    assert response.json() == {"id": FACEBOOK_PAGE_ID, "name": "Emporio Lumen"}


def test_graph_missing_token_is_code_104(sandbox: SandboxServer) -> None:
    response = requests.get(f"{sandbox.base_url}{GRAPH}/{FACEBOOK_PAGE_ID}/feed", timeout=5)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 104
    assert response.json()["error"]["type"] == "OAuthException"


def test_graph_responses_carry_usage_headers(sandbox: SandboxServer) -> None:
    response = graph_get(sandbox, page_path("feed"))
    assert set(json.loads(response.headers["X-App-Usage"])) == {
        "call_count",
        "total_cputime",
        "total_time",
    }
    assert FACEBOOK_PAGE_ID in json.loads(response.headers["X-Business-Use-Case-Usage"])
