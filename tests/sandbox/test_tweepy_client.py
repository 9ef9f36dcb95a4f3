"""Real tweepy 4.17 against the sandbox, re-hosted by a transport adapter as the connector does."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import tweepy

from socialdesk.sandbox import X_USER_ID, SandboxServer


class ToSandbox(requests.adapters.HTTPAdapter):
    """Rewrites tweepy's fixed `https://api.twitter.com` prefix to the sandbox URL."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        request.url = self.base_url + request.url[len("https://api.twitter.com") :]
        kwargs["timeout"] = kwargs.get("timeout") or 5
        return super().send(request, **kwargs)


def _client(server: SandboxServer) -> tweepy.Client:
    client = tweepy.Client(
        bearer_token="x",
        consumer_key="x",
        consumer_secret="x",
        access_token=f"{X_USER_ID}-x",
        access_token_secret="x",
    )
    client.session.mount("https://api.twitter.com", ToSandbox(server.base_url))
    return client


def test_tweepy_reads_mentions_with_user_auth_and_authors(sandbox: SandboxServer) -> None:
    response = _client(sandbox).get_users_mentions(
        X_USER_ID,
        user_auth=True,
        max_results=100,
        expansions="author_id",
        tweet_fields=["author_id", "created_at", "conversation_id", "referenced_tweets"],
        user_fields=["username", "name"],
    )
    authors = {user.id for user in response.includes["users"]}
    assert response.data and all(tweet.author_id in authors for tweet in response.data)
    assert response.data[0].created_at.tzinfo is not None
    assert response.meta["result_count"] == len(response.data)


def test_tweepy_reads_dm_events(sandbox: SandboxServer) -> None:
    response = _client(sandbox).get_direct_message_events(
        dm_event_fields=["sender_id", "created_at", "dm_conversation_id"],
        expansions="sender_id",
        event_types="MessageCreate",
    )
    assert response.data and all(event.event_type == "MessageCreate" for event in response.data)
    assert all(event.dm_conversation_id for event in response.data)


def test_tweepy_create_tweet_reply_is_recorded_in_state(sandbox: SandboxServer) -> None:
    mention = next(i for i in sandbox.state()["items"] if i["channel"] == "mention")
    response = _client(sandbox).create_tweet(
        text="Ciao! Ti abbiamo scritto in DM.", in_reply_to_tweet_id=mention["id"]
    )
    action = sandbox.state()["actions"][-1]
    assert action["assigned_id"] == response.data["id"]
    assert action["body"]["reply"] == {"in_reply_to_tweet_id": mention["id"]}


def test_tweepy_raises_too_many_requests_with_reset_time() -> None:
    with SandboxServer(static=True, rate_limits={"x.dm_events": 1}) as server:
        client = _client(server)
        client.get_direct_message_events()
        with pytest.raises(tweepy.TooManyRequests) as caught:
            client.get_direct_message_events()
    assert caught.value.reset_time is not None
    assert caught.value.api_messages == ["Too Many Requests"]
