"""The sandbox answers with the shapes the real APIs recorded (tweepy, twarc, pyfacebook)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sandbox_helpers import (
    cassette_bodies,
    graph_get,
    items,
    mentions,
    page_path,
    shape,
    x_get,
    x_send,
)

from socialdesk.sandbox import SandboxServer

FULL_TWEET_FIELDS = "author_id,created_at,conversation_id,in_reply_to_user_id,referenced_tweets"


def _assert_subset_shape(ours: object, theirs: object, where: str = "$") -> None:
    """Every key we send exists in the recording, with the same type."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict), where
        for key, value in ours.items():
            assert key in theirs, f"{where}.{key} not in the recorded response"
            _assert_subset_shape(value, theirs[key], f"{where}.{key}")
    elif isinstance(ours, list):
        assert isinstance(theirs, list), where
        if ours and theirs:
            _assert_subset_shape(ours[0], theirs[0], f"{where}[0]")
    else:
        assert ours == theirs, f"{where}: {ours} vs recorded {theirs}"


def test_mentions_page_with_default_fields_matches_recorded_cassette(
    sandbox: SandboxServer, recorded: Path
) -> None:
    [(_, _, _, body)] = cassette_bodies(
        recorded / "tweepy/cassettes/test_client_get_users_mentions.yaml"
    )
    ours = mentions(sandbox).json()
    assert shape(ours) == shape(body)


def _twarc_shapes(recorded: Path, kind: str) -> dict:
    """The union of the shapes of every tweet (or user) in the twarc pages."""
    merged: dict = {}
    for name in ("mentions_tweet.jsonl", "kpop.jsonl", "two_tweets.jsonl"):
        page = json.loads((recorded / "twarc-csv/test-data" / name).read_text().splitlines()[0])
        includes = page.get("includes", {})
        objects = (
            [*page["data"], *includes.get("tweets", [])] if kind == "tweet" else includes["users"]
        )
        for obj in objects:
            for key, value in shape(obj).items():
                merged.setdefault(key, value)
    return merged


def test_mentions_page_with_fields_and_authors_matches_twarc_recording(
    sandbox: SandboxServer, recorded: Path
) -> None:
    ours = mentions(
        sandbox,
        **{
            "tweet.fields": FULL_TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "username,name,created_at",
        },
    ).json()
    reply = next(t for t in ours["data"] if "referenced_tweets" in t)
    # No recorded tweet is a reply, so in_reply_to_user_id is checked by type only.
    assert isinstance(reply.pop("in_reply_to_user_id"), str)
    _assert_subset_shape(shape(reply), _twarc_shapes(recorded, "tweet"))
    _assert_subset_shape(shape(ours["includes"]["users"][0]), _twarc_shapes(recorded, "user"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", reply["created_at"])


def test_dm_events_page_matches_recorded_cassette(sandbox: SandboxServer, recorded: Path) -> None:
    recorded_pages = cassette_bodies(
        recorded / "tweepy/cassettes/test_manage_and_lookup_direct_messages.yaml"
    )
    conversation_page = next(
        b
        for m, p, _, b in recorded_pages
        if m == "GET" and p.endswith("/dm_events") and b and "data" in b
    )
    ours = x_get(sandbox, "/2/dm_events", max_results=2, event_types="MessageCreate").json()
    assert shape(ours["data"][0]) == shape(conversation_page["data"][0])
    _assert_subset_shape(shape(ours["meta"]), shape(conversation_page["meta"]))


def test_empty_dm_events_page_is_exactly_the_recorded_one(
    sandbox: SandboxServer, recorded: Path
) -> None:
    recorded_pages = cassette_bodies(
        recorded / "tweepy/cassettes/test_manage_and_lookup_direct_messages.yaml"
    )
    empty = next(b for m, p, _, b in recorded_pages if p == "/2/dm_events")
    first = x_get(sandbox, "/2/dm_events").json()
    last = x_get(sandbox, "/2/dm_events", pagination_token=first["meta"]["next_token"]).json()
    assert last == empty == {"meta": {"result_count": 0}}


def test_created_tweet_and_dm_bodies_match_recorded_cassettes(
    sandbox: SandboxServer, recorded: Path
) -> None:
    tweet_cassette = cassette_bodies(
        recorded / "tweepy/cassettes/test_client_create_and_delete_tweet.yaml"
    )
    dm_cassette = cassette_bodies(
        recorded / "tweepy/cassettes/test_manage_and_lookup_direct_messages.yaml"
    )
    mention = items(sandbox, "mention")[0]
    ours = _reply(sandbox, mention["id"])
    _assert_subset_shape(
        {"data": {k: v for k, v in shape(ours)["data"].items() if k != "edit_history_tweet_ids"}},
        shape(tweet_cassette[0][3]),
    )
    dm = x_send(
        sandbox,
        "POST",
        f"/2/dm_conversations/with/{mention['author_id']}/messages",
        {"text": "Ti scriviamo qui"},
    ).json()
    assert shape(dm) == shape(dm_cassette[0][3])


def _reply(sandbox: SandboxServer, reply_to: str) -> dict:
    response = x_send(
        sandbox,
        "POST",
        "/2/tweets",
        {"text": "Ti abbiamo scritto in privato.", "reply": {"in_reply_to_tweet_id": reply_to}},
    )
    assert response.status_code == 201
    return response.json()


def test_feed_page_matches_recorded_pyfacebook_feed(sandbox: SandboxServer, recorded: Path) -> None:
    body = json.loads(
        (
            recorded
            / "python-facebook/testdata/facebook/apidata/posts/feeds_default_fields_p1.json"
        ).read_text()
    )
    ours = graph_get(
        sandbox,
        page_path("feed"),
        limit=2,
        fields="id,message,created_time,updated_time,comments.summary(true).limit(0)",
    ).json()
    assert set(ours) == set(body)
    assert shape(ours["paging"]) == shape(body["paging"])
    _assert_subset_shape(shape(ours["data"][0]), shape(body["data"][0]))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000", ours["data"][0]["created_time"])


def test_comments_page_matches_recorded_pyfacebook_comments(
    sandbox: SandboxServer, recorded: Path
) -> None:
    body = json.loads(
        (
            recorded / "python-facebook/testdata/facebook/apidata/comments/comments_p1.json"
        ).read_text()
    )
    post = max(
        {i["post_id"] for i in items(sandbox, "comment")},
        key=lambda p: sum(i["post_id"] == p for i in items(sandbox, "comment")),
    )
    ours = graph_get(
        sandbox,
        f"/{post}/comments",
        summary=1,
        filter="stream",
        limit=2,
        fields="id,comment_count,created_time,like_count,message,permalink_url",
    ).json()
    assert set(ours) == set(body)
    assert shape(ours["paging"]) == shape(body["paging"])
    assert shape(ours["summary"]) == shape(body["summary"])
    ours_comment = {k: v for k, v in ours["data"][0].items() if k != "id"}
    assert shape(ours_comment) == shape(body["data"][0])


def test_graph_error_matches_recorded_error_shape(sandbox: SandboxServer, recorded: Path) -> None:
    body = json.loads((recorded / "python-facebook/testdata/error.json").read_text())
    ours = graph_get(sandbox, "/123456789/feed")
    assert ours.status_code == 400
    _assert_subset_shape(shape(body), shape(ours.json()))
    assert ours.json()["error"]["code"] == 100
