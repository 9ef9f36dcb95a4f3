"""The Facebook connector against real requests, replayed on loopback."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from connector_helpers import (
    ALL_SECRET_VALUES,
    FB_PAGE_ID,
    FB_SECRETS,
    NOW,
    assert_cursor_only_on_last_page,
    cassette,
    closed_port,
    pull_all,
    read_recorded_json,
)
from replay import ReplayServer

from connectors._http import RetryPolicy
from connectors.base import (
    AccountSettings,
    AuthExpired,
    Channel,
    ConfigurationError,
    ConnectorError,
    Direction,
    FatalAPIError,
    MalformedPayload,
    PaginationLoop,
    PullPage,
    RateLimited,
    RetriableAPIError,
)
from connectors.facebook import FacebookConnector, decode_cursor, encode_cursor
from connectors.facebook_parse import parse_graph_time

FacebookFactory = Callable[..., FacebookConnector]
WATERMARK = encode_cursor(datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
FEED_PATH = f"/v25.0/{FB_PAGE_ID}/feed"
RECORDED_TOKEN = "EAAGrecordedTokenMustNotBeSent"
RECORDED = "python-facebook/testdata"
APIDATA = f"{RECORDED}/facebook/apidata"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def assert_watermark_moves_only_on_last_page(pages: list[PullPage], stored: str) -> None:
    """Every page but the last keeps the stored watermark (its cursor says where the walk
    stands, so a stop resumes there); the last page's cursor is a finished walk."""
    assert pages, "a pull yields at least one page"
    for page in pages[:-1]:
        assert page.cursor is not None
        assert decode_cursor(page.cursor)[0] == decode_cursor(stored)[0]
    assert "walk" not in json.loads(pages[-1].cursor or "{}")


class TestFeed:
    def test_new_comments_and_visitor_posts_each_once_with_watermark_last(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_cassette(cassette("facebook", "feed_visitor_posts_and_comments"))
        pages = pull_all(facebook_connector(), "feed", WATERMARK)

        ids = [i.external_id for p in pages for i in p.items]
        assert sorted(ids) == sorted(["1000_1_c5", "1000_1_c4", "1000_1_c3", "1000_1_c2",
                                      "1000_2", "1000_2_c1"])
        assert_watermark_moves_only_on_last_page(pages, WATERMARK)
        assert decode_cursor(pages[-1].cursor)[0] == utc("2026-11-20T11:30:00Z")
        assert replay_server.paths() == [FEED_PATH, "/v25.0/1000_1/comments", FEED_PATH]
        assert not replay_server.unexpected

    def test_threads_parents_echoes_and_withheld_authors(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_cassette(cassette("facebook", "feed_visitor_posts_and_comments"))
        items = {i.external_id: i for p in pull_all(facebook_connector(), "feed", WATERMARK)
                 for i in p.items}

        page_reply = items["1000_1_c5"]
        assert (page_reply.direction, page_reply.thread_key, page_reply.parent_external_id) == (
            Direction.OUTBOUND, "1000_1_c4", "1000_1_c4")
        top_level = items["1000_1_c4"]
        assert (top_level.thread_key, top_level.parent_external_id) == ("1000_1_c4", None)
        assert (top_level.author_id, top_level.author_name) == ("2001", "Ada L")
        assert items["1000_1_c3"].author_id is None
        assert items["1000_1_c3"].direction is Direction.INBOUND
        visitor_post = items["1000_2"]
        assert (visitor_post.channel, visitor_post.thread_key) == (Channel.VISITOR_POST, "1000_2")
        answer = items["1000_2_c1"]
        assert (answer.channel, answer.direction) == (Channel.COMMENT, Direction.OUTBOUND)
        assert (answer.thread_key, answer.parent_external_id) == ("1000_2", "1000_2")
        assert "1000_1" not in items  # the Page's own post is not a customer message

    def test_requests_carry_our_token_once_and_the_lookback(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_cassette(cassette("facebook", "feed_visitor_posts_and_comments"))
        pull_all(facebook_connector(), "feed", WATERMARK)

        for request in replay_server.requests:
            assert request.params("access_token") == [FB_SECRETS["page_token"]]
        first = replay_server.requests[0]
        horizon = utc("2026-11-20T10:00:00Z") - timedelta(minutes=5) - timedelta(days=30)
        assert first.param("since") == str(int(horizon.timestamp()))
        assert "comments.filter(stream).order(reverse_chronological)" in (
            first.param("fields") or "")
        assert replay_server.requests[1].param("after") == "Y29tbWVudF9hZnRlcl8x"

    def test_first_pull_reads_the_lookback_window(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_json("GET", FEED_PATH, {"data": [
            {"id": "1000_5", "message": "Hi", "created_time": "2026-11-19T08:00:00+0000",
             "from": {"id": "3005", "name": "Gus"},
             "comments": {"data": [{"id": "1000_5_c1", "message": "hello?",
                                    "created_time": "2026-11-19T09:00:00+0000",
                                    "from": {"id": "3005", "name": "Gus"}}]}},
            {"id": "1000_4", "message": "too old", "created_time": "2026-11-01T08:00:00+0000",
             "from": {"id": "3004", "name": "Hal"}}]})
        (page,) = pull_all(facebook_connector(), "feed", None)

        assert [i.external_id for i in page.items] == ["1000_5", "1000_5_c1"]
        assert decode_cursor(page.cursor)[0] == utc("2026-11-19T09:00:00Z")

    def test_nothing_new_keeps_the_watermark(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_json("GET", FEED_PATH, {"data": []})
        (page,) = pull_all(facebook_connector(), "feed", WATERMARK)
        assert page.items == [] and page.cursor == WATERMARK

    def test_repeating_cursor_stops_the_walk_and_keeps_the_watermark(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_cassette(cassette("facebook", "feed_repeating_cursor"))
        pages: list[PullPage] = []
        with pytest.raises(PaginationLoop, match="cursor already followed"):
            pages.extend(facebook_connector().pull("feed", WATERMARK))

        assert len(replay_server.requests) == 2
        assert [i.external_id for p in pages for i in p.items] == ["1000_7"]
        assert all(decode_cursor(p.cursor)[0] == decode_cursor(WATERMARK)[0] for p in pages)

    def test_paging_link_to_a_foreign_host_is_not_followed(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_json("GET", FEED_PATH, {"data": [], "paging": {
            "next": "https://graph.evil.example/v25.0/1000/feed?after=x"}})
        replay_server.add_json("GET", FEED_PATH, {"data": []})
        with pytest.raises(MalformedPayload, match="unexpected host"):
            pull_all(facebook_connector(), "feed", WATERMARK)

    def test_usage_headers_become_the_page_rate_limit(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_json("GET", FEED_PATH, {"data": []}, headers={
            "x-app-usage": json.dumps({"call_count": 12, "total_time": 85, "total_cputime": 3})})
        (page,) = pull_all(facebook_connector(), "feed", WATERMARK)
        assert page.rate_limit is not None
        assert (page.rate_limit.limit, page.rate_limit.remaining) == (100, 15)

    def test_graph_version_is_logged_at_debug(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        replay_server.add_json("GET", FEED_PATH, {"data": []},
                               headers={"facebook-api-version": "v25.0"})
        with caplog.at_level(logging.DEBUG, logger="connectors.facebook"):
            pull_all(facebook_connector(), "feed", WATERMARK)
        assert "Facebook-Api-Version v25.0" in caplog.text


class TestMessenger:
    def test_new_messages_each_once_with_echoes_and_attachment_only_text(
        self, replay_server: ReplayServer, facebook_connector: FacebookFactory
    ) -> None:
        replay_server.add_cassette(cassette("facebook", "messenger_conversations"))
        pages = pull_all(facebook_connector(), "messenger", WATERMARK)

        items = {i.external_id: i for p in pages for i in p.items}
        assert sorted(items) == ["m_0", "m_1", "m_2", "m_20", "m_3"]
        assert items["m_3"].direction is Direction.OUTBOUND
        assert items["m_1"].direction is Direction.INBOUND
        assert (items["m_2"].text, items["m_2"].raw["id"]) == ("", "m_2")
        assert {items[m].thread_key for m in ("m_0", "m_1", "m_2", "m_3")} == {"t_1"}
        assert items["m_20"].channel is Channel.MESSENGER
        assert_cursor_only_on_last_page(pages)
        assert decode_cursor(pages[-1].cursor)[0] == utc("2026-11-20T11:40:00Z")
        assert replay_server.paths() == [f"/v25.0/{FB_PAGE_ID}/conversations",
                                         "/v25.0/t_1/messages"]
        assert replay_server.requests[0].param("platform") == "messenger"


class TestRecordedBodies:
    """python-facebook's real Graph bodies, served at test time."""

    def test_recorded_feed_pages_follow_next_and_stop_at_the_lookback(
        self, replay_server: ReplayServer, recorded_dir: Path
    ) -> None:
        for n in (1, 2):
            replay_server.add_json("GET", "/19292868552/feed", read_recorded_json(
                recorded_dir, f"{APIDATA}/posts/feeds_default_fields_p{n}.json"))
        connector = _connector(replay_server, page_id="19292868552")
        pages = pull_all(connector, "feed", encode_cursor(utc("2021-07-01T00:00:00Z")))

        items = [i for p in pages for i in p.items]
        assert [i.external_id for i in items] == [
            "19292868552_10158349356748553", "19292868552_10158347294088553",
            "19292868552_10158345715593553", "19292868552_10158343840773553"]
        assert all(i.channel is Channel.VISITOR_POST and i.author_id is None for i in items)
        assert decode_cursor(pages[-1].cursor)[0] == utc("2021-07-09T19:09:52Z")
        assert replay_server.requests[1].path == "/v10.0/19292868552/feed"
        assert replay_server.requests[1].params("access_token") == [FB_SECRETS["page_token"]]

    def test_recorded_comments_without_ids_are_quarantined_across_pages(
        self, replay_server: ReplayServer, recorded_dir: Path
    ) -> None:
        first = read_recorded_json(recorded_dir, f"{APIDATA}/comments/comments_p1.json")
        second = read_recorded_json(recorded_dir, f"{APIDATA}/comments/comments_p2.json")
        replay_server.add_json("GET", "/19292868552/feed", {"data": [{
            "id": "19292868552_10158407654328553", "created_time": "2021-08-10T16:00:00+0000",
            "updated_time": "2021-08-10T18:00:00+0000",
            "from": {"id": "19292868552", "name": "Facebook for Developers"},
            "comments": first}]})
        replay_server.add_json("GET", "/19292868552_10158407654328553/comments", second)
        connector = _connector(replay_server, page_id="19292868552")
        pages = pull_all(connector, "feed", encode_cursor(utc("2021-08-10T17:00:00Z")))

        quarantined = [q for p in pages for q in p.quarantined]
        assert len(quarantined) == 15
        assert {q.reason for q in quarantined} == {"comment without id"}
        assert [p.items for p in pages] == [[]]

    def test_recorded_attachment_message_keeps_raw_and_empty_text(
        self, replay_server: ReplayServer, recorded_dir: Path
    ) -> None:
        message = read_recorded_json(recorded_dir, f"{APIDATA}/messages/message_info.json")
        conversation = read_recorded_json(
            recorded_dir, f"{APIDATA}/conversations/cvs_info.json")
        conversation["updated_time"] = message["created_time"]
        conversation["messages"] = {"data": [message]}
        replay_server.add_json("GET", "/2121008874780932/conversations", {"data": [conversation]})
        connector = _connector(replay_server, page_id="2121008874780932")
        (page,) = pull_all(connector, "messenger", encode_cursor(utc("2021-07-23T09:00:00Z")))

        (item,) = page.items
        assert (item.text, item.thread_key) == ("", conversation["id"])
        assert item.created_at == utc("2021-07-23T09:50:48Z")
        assert item.raw["attachments"]["data"][0]["mime_type"] == "image/jpeg"

    @pytest.mark.parametrize("body", ["error.json", "base/error_data.json"])
    def test_recorded_permission_errors_are_fatal(
        self, replay_server: ReplayServer, recorded_dir: Path, body: str
    ) -> None:
        replay_server.add_json("GET", FEED_PATH, read_recorded_json(
            recorded_dir, f"{RECORDED}/{body}"), status=400)
        with pytest.raises(FatalAPIError, match="code 100"):
            pull_all(_connector(replay_server, page_id=FB_PAGE_ID), "feed", WATERMARK)


FAULTS = [
    ("graph_error_190_expired", AuthExpired, None, 1),
    ("graph_error_4_app_limit", RateLimited, NOW + timedelta(minutes=5), 1),
    ("graph_error_17_buc", RateLimited, NOW + timedelta(minutes=12), 1),
    ("graph_error_32_page_limit", RateLimited, NOW + timedelta(minutes=5), 1),
    ("graph_error_613_custom", RateLimited, NOW + timedelta(minutes=5), 1),
    ("graph_error_10_permission", FatalAPIError, None, 1),
    ("graph_error_2_storm", RetriableAPIError, None, 3),
    ("graph_5xx_storm", RetriableAPIError, None, 3),
    ("graph_truncated_json", MalformedPayload, None, 3),
]


@pytest.mark.parametrize(("scenario", "error", "reset_at", "attempts"), FAULTS,
                         ids=[f[0] for f in FAULTS])
def test_fault_maps_to_connector_error(
    replay_server: ReplayServer, facebook_connector: FacebookFactory, scenario: str,
    error: type[ConnectorError], reset_at: datetime | None, attempts: int,
) -> None:
    replay_server.add_cassette(cassette("facebook", scenario))
    with pytest.raises(error) as caught:
        pull_all(facebook_connector(), "feed", WATERMARK)

    assert type(caught.value) is error
    assert len(replay_server.requests) == attempts
    if reset_at is not None:
        assert isinstance(caught.value, RateLimited)
        assert caught.value.reset_at == reset_at
    message = str(caught.value)
    assert "access_token=" not in message
    for secret in ALL_SECRET_VALUES:
        assert secret not in message


def test_expired_token_says_how_to_reconnect(
    replay_server: ReplayServer, facebook_connector: FacebookFactory
) -> None:
    replay_server.add_cassette(cassette("facebook", "graph_error_190_expired"))
    with pytest.raises(AuthExpired) as caught:
        pull_all(facebook_connector(page_token_env="BRAND_FB_PAGE_TOKEN"), "feed", WATERMARK)
    assert "generate a new Page access token and update BRAND_FB_PAGE_TOKEN" in str(caught.value)


def test_permission_error_names_the_permission(
    replay_server: ReplayServer, facebook_connector: FacebookFactory
) -> None:
    replay_server.add_cassette(cassette("facebook", "graph_error_10_permission"))
    with pytest.raises(FatalAPIError, match="lacks a permission \\(pages_read_user_content\\)"):
        pull_all(facebook_connector(), "feed", WATERMARK)


def test_messenger_errors_map_the_same_way(
    replay_server: ReplayServer, facebook_connector: FacebookFactory
) -> None:
    replay_server.add_json("GET", f"/{FB_PAGE_ID}/conversations", {"error": {
        "message": "(#17) User request limit reached", "code": 17, "is_transient": True}},
        status=400)
    with pytest.raises(RateLimited):
        pull_all(facebook_connector(), "messenger", WATERMARK)


@pytest.mark.parametrize(("text", "expected"), [
    ("2021-02-12T16:27:12+0000", datetime(2021, 2, 12, 16, 27, 12, tzinfo=UTC)),
    ("2021-02-12T18:27:12+0200", datetime(2021, 2, 12, 16, 27, 12, tzinfo=UTC)),
    ("2021-02-12T16:27:12", None),
    ("yesterday", None),
    (1613147232, None),
])
def test_graph_times_become_aware_utc(text: object, expected: datetime | None) -> None:
    assert parse_graph_time(text) == expected


def test_unreadable_cursor_restarts_from_the_lookback_with_a_warning() -> None:
    watermark, warnings = decode_cursor("not json")
    assert watermark is None and warnings


@pytest.mark.parametrize(("options", "secrets", "missing"), [
    ({}, FB_SECRETS, "page_id"),
    ({"page_id": FB_PAGE_ID}, {"page_token": ""}, "page_token_env"),
    ({"page_id": FB_PAGE_ID, "comment_lookback_days": "a week"}, FB_SECRETS, "lookback"),
])
def test_missing_settings_raise_configuration_error(
    options: dict[str, str], secrets: dict[str, str], missing: str
) -> None:
    account = AccountSettings(name="brand-fb", platform="facebook", base_url=None,
                              secrets=secrets, options=options)
    with pytest.raises(ConfigurationError, match=missing):
        FacebookConnector(account)


def test_connection_refused_is_retried_and_the_error_hides_the_token(
    fast_retry: RetryPolicy, sleeps: list[float]
) -> None:
    port = closed_port()
    account = AccountSettings(name="brand-fb", platform="facebook",
                              base_url=f"http://127.0.0.1:{port}",
                              secrets=FB_SECRETS, options={"page_id": FB_PAGE_ID})
    with pytest.raises(RetriableAPIError) as caught:
        pull_all(FacebookConnector(account, retry=fast_retry), "feed", WATERMARK)
    message = str(caught.value)
    assert message == f"Graph feed: cannot reach 127.0.0.1:{port}: connection refused"
    assert FB_SECRETS["page_token"] not in message
    assert len(sleeps) == 2


def _connector(server: ReplayServer, page_id: str) -> FacebookConnector:
    account = AccountSettings(name="brand-fb", platform="facebook", base_url=server.base_url,
                              secrets=FB_SECRETS, options={"page_id": page_id})
    return FacebookConnector(account, now=lambda: NOW)


TOO_MUCH_DATA = {"error": {
    "message": "Please reduce the amount of data you're asking for, then retry your request",
    "type": "OAuthException", "code": 1, "fbtrace_id": "AbCdEf"}}


def test_code_1_too_much_data_halves_the_page_and_the_nested_limit(
    replay_server: ReplayServer, facebook_connector: FacebookFactory
) -> None:
    replay_server.add_json("GET", FEED_PATH, TOO_MUCH_DATA, status=500)
    replay_server.add_json("GET", FEED_PATH, {"data": []})
    (page,) = pull_all(facebook_connector(), "feed", WATERMARK)

    first, second = replay_server.requests
    assert (first.param("limit"), second.param("limit")) == ("25", "12")
    assert ".limit(50)" in (first.param("fields") or "")
    assert ".limit(25)" in (second.param("fields") or "")
    assert any("less data" in warning for warning in page.warnings)


def test_code_1_at_one_entry_per_page_fails_with_a_clear_message(
    replay_server: ReplayServer, facebook_connector: FacebookFactory
) -> None:
    for _ in range(7):
        replay_server.add_json("GET", FEED_PATH, TOO_MUCH_DATA, status=500)
    with pytest.raises(FatalAPIError, match="refuses even 1 per page with 1 nested each"):
        pull_all(facebook_connector(), "feed", WATERMARK)
    assert [r.param("limit") for r in replay_server.requests] == ["25", "12", "6", "3", "1", "1"]


def test_a_post_that_does_not_parse_keeps_its_valid_comment(
    replay_server: ReplayServer, facebook_connector: FacebookFactory
) -> None:
    replay_server.add_json("GET", FEED_PATH, {"data": [
        {"id": "1000_9", "message": "help", "created_time": "31/02/2026 25:61",
         "updated_time": "2026-11-20T10:30:00+0000", "from": {"id": "3009", "name": "Ida"},
         "comments": {"data": [{"id": "1000_9_c1", "message": "anyone?",
                                "created_time": "2026-11-20T10:30:00+0000",
                                "from": {"id": "3009", "name": "Ida"}}]}},
        {"message": "no id", "created_time": "2026-11-20T10:20:00+0000",
         "from": {"id": "1000", "name": "Brand"},
         "comments": {"data": [{"id": "1000_8_c1", "message": "me too",
                                "created_time": "2026-11-20T10:20:00+0000",
                                "from": {"id": "3008", "name": "Jo"}}]}}]})
    (page,) = pull_all(facebook_connector(), "feed", WATERMARK)

    items = {item.external_id: item for item in page.items}
    assert set(items) == {"1000_9_c1", "1000_8_c1"}
    assert (items["1000_9_c1"].thread_key, items["1000_9_c1"].parent_external_id) == (
        "1000_9", "1000_9")
    assert items["1000_8_c1"].thread_key == "1000_8_c1"
    # the visitor's post is set aside; the Page's own post is no message, so nothing is
    assert [q.reason for q in page.quarantined] == ["visitor post with unparseable created_time"]
    assert all(q.raw for q in page.quarantined)


def test_conversations_permission_advice_names_the_three_permissions(
    replay_server: ReplayServer, facebook_connector: FacebookFactory
) -> None:
    replay_server.add_json("GET", f"/{FB_PAGE_ID}/conversations", {"error": {
        "message": "(#230) Requires pages_messaging permission to manage the object",
        "type": "OAuthException", "code": 230}}, status=403)
    with pytest.raises(FatalAPIError) as caught:
        facebook_connector().check_edge("conversations")
    assert ("reading conversations needs pages_manage_metadata, pages_read_engagement and "
            "pages_messaging") in str(caught.value)
