"""Issue 14 point 6: items are parsed strictly, set aside with what re-reads them, re-read.

A field of the wrong type is read where it has one reading (an id sent as a number) or the
item is set aside with the reason, never stored as empty text or with the wrong direction;
a set-aside item keeps what `reparse` needs to read it alone after an upgrade.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from connector_helpers import FB_PAGE_ID, X_USER_ID, pull_all
from replay import ReplayServer

from connectors.base import (
    REPARSE_UNSUPPORTED,
    AccountSettings,
    Connector,
    Direction,
    InboundItem,
    PullPage,
    QuarantinedItem,
)
from connectors.facebook import FacebookConnector
from connectors.x import XConnector

XFactory = Callable[..., XConnector]
FacebookFactory = Callable[..., FacebookConnector]
MENTIONS_PATH = f"/2/users/{X_USER_ID}/mentions"
FEED_PATH = f"/v25.0/{FB_PAGE_ID}/feed"
CONVERSATIONS_PATH = f"/v25.0/{FB_PAGE_ID}/conversations"


def tweet(tweet_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": tweet_id, "text": "@brand hello", "author_id": "3001",
            "conversation_id": tweet_id, "created_at": "2026-11-20T10:00:00.000Z", **fields}


def mentions_page(*tweets: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(tweets),
            "includes": {"users": [{"id": "3001", "username": "ada", "name": "Ada"},
                                   {"id": X_USER_ID, "username": "brand", "name": "Brand"}]},
            "meta": {"result_count": len(tweets), "newest_id": tweets[0]["id"]}}


def one_page(pages: list[PullPage]) -> PullPage:
    assert len(pages) == 1
    return pages[0]


class TestX:
    def test_a_numeric_author_id_is_read_as_its_digits_and_the_own_post_stays_outbound(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_json("GET", MENTIONS_PATH, mentions_page(
            tweet("1900000000000000302", author_id=float(X_USER_ID)),
            tweet("1900000000000000301", author_id=3001)))
        page = one_page(pull_all(x_connector(), "mentions", None))

        assert page.quarantined == []
        directions = {i.external_id: (i.direction, i.author_id, i.author_handle)
                      for i in page.items}
        assert directions == {
            "1900000000000000302": (Direction.OUTBOUND, X_USER_ID, "brand"),
            "1900000000000000301": (Direction.INBOUND, "3001", "ada"),
        }

    def test_an_id_with_no_single_reading_sets_the_tweet_aside_with_the_reason(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_json("GET", MENTIONS_PATH, mentions_page(
            tweet("1900000000000000303", author_id=1.4609321587926467e18),
            tweet("1900000000000000302", author_id=["3001"]),
            tweet("1900000000000000301", text=42)))
        page = one_page(pull_all(x_connector(), "mentions", None))

        assert page.items == []
        assert [q.reason for q in page.quarantined] == [
            "mention author_id is a number too large to be exact, not an id",
            "mention author_id is a list, not an id",
            "mention text is a number, not text",
        ]
        assert [q.external_id for q in page.quarantined] == [
            "1900000000000000303", "1900000000000000302", "1900000000000000301"]

    def test_a_set_aside_tweet_keeps_its_author_and_is_read_alone_once_fixed(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_json("GET", MENTIONS_PATH, mentions_page(
            tweet("1900000000000000301", text=42)))
        connector = x_connector()
        (kept,) = one_page(pull_all(connector, "mentions", None)).quarantined

        assert kept.raw["includes"] == {"users": [{"id": "3001", "username": "ada",
                                                   "name": "Ada"}]}
        still = connector.reparse("mentions", kept.raw)
        assert isinstance(still, QuarantinedItem)
        assert still.reason == "mention text is a number, not text"
        fixed = {**kept.raw, "data": {**kept.raw["data"], "text": "@brand 42"}}
        item = connector.reparse("mentions", fixed)
        assert isinstance(item, InboundItem)
        assert (item.external_id, item.text, item.author_handle, item.direction) == (
            "1900000000000000301", "@brand 42", "ada", Direction.INBOUND)

    def test_a_row_kept_before_authors_were_stored_is_read_without_a_name(
        self, x_connector: XFactory
    ) -> None:
        item = x_connector().reparse("dms", {
            "id": "1900000000000000401", "text": "hi", "sender_id": "3001",
            "dm_conversation_id": "3001-9000", "created_at": "2026-11-20T10:00:00.000Z"})
        assert isinstance(item, InboundItem)
        assert (item.author_id, item.author_handle, item.thread_key) == ("3001", None,
                                                                          "3001-9000")


def post(post_id: str, author: Any, *comments: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"id": post_id, "message": "a post", "created_time": "2026-11-20T09:00:00+0000",
            "from": author, **fields}
    if comments:
        body["comments"] = {"data": list(comments)}
    return body


def comment(comment_id: str, author: Any, **fields: Any) -> dict[str, Any]:
    return {"id": comment_id, "message": "a comment", "created_time": "2026-11-20T09:30:00+0000",
            "from": author, **fields}


CUSTOMER = {"id": "3005", "name": "Gus"}
PAGE_AS_NUMBER = {"id": float(FB_PAGE_ID), "name": "Brand"}


class TestFacebook:
    def test_the_pages_own_post_and_comment_stay_the_pages_when_its_id_is_a_number(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_json("GET", FEED_PATH, {"data": [
            post("1000_7", PAGE_AS_NUMBER, comment("1000_7_c2", PAGE_AS_NUMBER),
                 comment("1000_7_c1", CUSTOMER))]})
        page = one_page(pull_all(facebook_connector(), "feed", None))

        assert page.quarantined == []
        assert {i.external_id: (i.channel.value, i.direction) for i in page.items} == {
            "1000_7_c2": ("comment", Direction.OUTBOUND),
            "1000_7_c1": ("comment", Direction.INBOUND),
        }

    def test_text_that_is_not_text_is_set_aside_not_stored_empty(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_json("GET", FEED_PATH, {"data": [
            post("1000_8", CUSTOMER, comment("1000_8_c1", CUSTOMER, message={"text": "hi"}),
                 message=12)]})
        page = one_page(pull_all(facebook_connector(), "feed", None))

        assert page.items == []
        assert {q.external_id: q.reason for q in page.quarantined} == {
            "1000_8": "visitor post message is a number, not text",
            "1000_8_c1": "comment message is an object, not text",
        }

    def test_a_from_that_is_no_object_is_set_aside_but_a_missing_one_is_an_unknown_author(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_json("GET", FEED_PATH, {"data": [
            post("1000_9", None, comment("1000_9_c2", FB_PAGE_ID),
                 comment("1000_9_c1", None))]})
        page = one_page(pull_all(facebook_connector(), "feed", None))

        assert [(i.external_id, i.author_id, i.direction) for i in page.items] == [
            ("1000_9", None, Direction.INBOUND), ("1000_9_c1", None, Direction.INBOUND)]
        assert [(q.external_id, q.reason) for q in page.quarantined] == [
            ("1000_9_c2", "comment from is a string, not an object")]

    @pytest.mark.parametrize("broken", [{"created_time": "31/02/2026 25:61"}, {"id": None}])
    def test_a_broken_visitor_post_keeps_its_valid_comment(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory,
        broken: dict[str, Any],
    ) -> None:
        replay_server.add_json("GET", FEED_PATH, {"data": [
            post("1000_6", CUSTOMER, comment("1000_6_c1", CUSTOMER), **broken)]})
        page = one_page(pull_all(facebook_connector(), "feed", None))

        assert [i.external_id for i in page.items] == ["1000_6_c1"]
        (kept,) = page.quarantined
        assert kept.reason.startswith("visitor post ")
        assert "comments" not in kept.raw["data"]

    def test_a_set_aside_comment_is_read_alone_with_its_post_once_fixed(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_json("GET", FEED_PATH, {"data": [
            post("1000_5", CUSTOMER, comment("1000_5_c1", CUSTOMER, message=7))]})
        connector = facebook_connector()
        page = one_page(pull_all(connector, "feed", None))
        (kept,) = page.quarantined
        assert kept.raw["post"] == {"id": "1000_5", "visitor": True}

        fixed = {**kept.raw, "data": {**kept.raw["data"], "message": "7 days late"}}
        item = connector.reparse("feed", fixed)
        assert isinstance(item, InboundItem)
        assert (item.thread_key, item.parent_external_id, item.text) == (
            "1000_5", "1000_5", "7 days late")

    def test_a_set_aside_message_is_read_alone_with_its_conversation(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_json("GET", CONVERSATIONS_PATH, {"data": [{
            "id": "t_1", "updated_time": "2026-11-20T09:00:00+0000",
            "messages": {"data": [{"id": "m_1", "message": ["hi"], "from": CUSTOMER,
                                   "created_time": "2026-11-20T09:00:00+0000"}]}}]})
        connector = facebook_connector()
        (kept,) = one_page(pull_all(connector, "messenger", None)).quarantined
        assert kept.reason == "message message is a list, not text"

        item = connector.reparse("messenger", {**kept.raw, "data": {**kept.raw["data"],
                                                                    "message": "hi"}})
        assert isinstance(item, InboundItem)
        assert (item.thread_key, item.text, item.direction) == ("t_1", "hi", Direction.INBOUND)

    def test_the_pages_own_post_read_again_is_no_message(
        self, facebook_connector: FacebookFactory
    ) -> None:
        raw = {"data": post("1000_4", {"id": FB_PAGE_ID})}
        assert facebook_connector().reparse("feed", raw) is None

    def test_a_post_that_is_no_object_stays_set_aside_with_its_own_reason(
        self, facebook_connector: FacebookFactory
    ) -> None:
        still = facebook_connector().reparse("feed", {"data": ["1000_2"]})
        assert isinstance(still, QuarantinedItem)
        assert still.reason == "post is a list, not an object"

    def test_a_bare_row_of_an_older_version_stays_set_aside_with_the_reason(
        self, facebook_connector: FacebookFactory
    ) -> None:
        still = facebook_connector().reparse("feed", comment("1000_3_c1", CUSTOMER))
        assert isinstance(still, QuarantinedItem)
        assert "cannot be read alone" in still.reason


class _Minimal(Connector):
    platform = "minimal"
    streams = ("only",)

    def __init__(self, account: AccountSettings) -> None:
        self.account = account

    def pull(self, stream: str, cursor: str | None) -> Any:
        raise AssertionError(f"re-reading must not pull ({stream}, {cursor})")


def test_a_connector_without_reparse_keeps_the_payload_set_aside() -> None:
    connector = _Minimal(AccountSettings("m", "minimal", None, {}))
    still = connector.reparse("only", {"id": "1"})
    assert isinstance(still, QuarantinedItem)
    assert (still.reason, still.raw) == (REPARSE_UNSUPPORTED, {"id": "1"})
    assert REPARSE_UNSUPPORTED == "this connector cannot re-read stored payloads"
