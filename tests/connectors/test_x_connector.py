"""The X connector against real tweepy and requests, replayed on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from connector_helpers import (
    ALL_SECRET_VALUES,
    NOW,
    X_SECRETS,
    X_USER_ID,
    cassette,
    closed_port,
    pull_all,
)
from replay import ReplayServer

from connectors._http import DEFAULT_TIMEOUT, BaseUrlAdapter, RetryPolicy
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
    WalkIncomplete,
)
from connectors.x import (
    DM_MAX_REQUESTS,
    LOST_MENTIONS_WARNING,
    MENTIONS_MAX_REQUESTS,
    XConnector,
)
from connectors.x_walk import WalkCursor

XFactory = Callable[..., XConnector]
MENTIONS_PATH = f"/2/users/{X_USER_ID}/mentions"
DM_PATH = "/2/dm_events"


def watermark(cursor: str | None) -> str | None:
    """The watermark a stored cursor carries (a DM cursor also carries its page sizing)."""
    return WalkCursor.parse(cursor).watermark


def assert_watermark_only_on_last_page(pages: list[PullPage], watermark: str | None) -> None:
    """Pages before the last keep the old watermark and say where the walk resumes."""
    assert pages, "a pull yields at least one page"
    for page in pages[:-1]:
        state = WalkCursor.parse(page.cursor)
        assert state.watermark == watermark and state.next_token is not None


def pull_until_stopped(
    connector: XConnector, stream: str, cursor: str | None
) -> tuple[list[PullPage], BaseException | None]:
    """The pages a pull yields before it ends or raises, and what it raised."""
    pages: list[PullPage] = []
    try:
        for page in connector.pull(stream, cursor):
            pages.append(page)
    except Exception as error:  # noqa: BLE001 - returned for the test to inspect
        return pages, error
    return pages, None


def tweet(tweet_id: int) -> dict[str, object]:
    return {"id": str(tweet_id), "text": "@brand hi", "author_id": "9101",
            "created_at": "2026-11-20T11:00:00.000Z", "edit_history_tweet_ids": [str(tweet_id)]}


def dm_event(event_id: int) -> dict[str, object]:
    return {"id": str(event_id), "text": "hello", "event_type": "MessageCreate",
            "sender_id": "9101", "created_at": "2026-11-20T11:00:00.000Z",
            "dm_conversation_id": "9000-9101"}


def mentions_page(ids: list[int], next_token: str | None) -> dict[str, object]:
    meta: dict[str, object] = {"result_count": len(ids), "newest_id": str(ids[0])}
    if next_token:
        meta["next_token"] = next_token
    return {"data": [tweet(i) for i in ids], "meta": meta}


def dm_page(ids: list[int], next_token: str) -> dict[str, object]:
    return {"data": [dm_event(i) for i in ids],
            "meta": {"result_count": len(ids), "next_token": next_token}}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


class TestMentions:
    def test_two_pages_yield_every_mention_once_and_cursor_on_last_page(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_cassette(cassette("x", "mentions_two_pages"))
        pages = pull_all(x_connector(), "mentions", "1900000000000000050")

        assert len(pages) == 2
        assert_watermark_only_on_last_page(pages, "1900000000000000050")
        assert pages[-1].cursor == "1900000000000000105"
        ids = [item.external_id for page in pages for item in page.items]
        assert ids == ["1900000000000000105", "1900000000000000104",
                       "1900000000000000103", "1900000000000000101"]
        assert not replay_server.unexpected

    def test_walk_sends_since_id_fields_and_the_next_token(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_cassette(cassette("x", "mentions_two_pages"))
        pull_all(x_connector(), "mentions", "1900000000000000050")

        first, second = replay_server.requests
        assert first.param("since_id") == second.param("since_id") == "1900000000000000050"
        assert first.param("pagination_token") is None
        assert second.param("pagination_token") == "7140dibdnow9page2"
        assert first.param("max_results") == "100"
        assert set((first.param("tweet.fields") or "").split(",")) >= {
            "author_id", "created_at", "conversation_id", "referenced_tweets"}
        assert first.param("expansions") == "author_id"
        assert first.headers["authorization"].startswith("OAuth ")  # user context, no bearer

    def test_own_reply_is_an_outbound_echo_threaded_on_its_conversation(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_cassette(cassette("x", "mentions_two_pages"))
        items = {i.external_id: i for p in pull_all(x_connector(), "mentions", None)
                 for i in p.items}

        echo = items["1900000000000000104"]
        assert echo.direction is Direction.OUTBOUND
        assert echo.thread_key == "1900000000000000101"
        assert echo.parent_external_id == "1900000000000000101"
        customer = items["1900000000000000105"]
        assert customer.direction is Direction.INBOUND
        assert customer.channel is Channel.MENTION
        assert (customer.author_handle, customer.author_name) == ("ada_l", "Ada L")
        assert customer.created_at == utc("2026-11-20T11:50:00Z")
        assert customer.raw["conversation_id"] == "1900000000000000105"

    def test_author_missing_from_includes_and_partial_errors_do_not_fail(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_cassette(cassette("x", "mentions_two_pages"))
        items = {i.external_id: i for p in pull_all(x_connector(), "mentions", None)
                 for i in p.items}

        unknown = items["1900000000000000103"]
        assert (unknown.author_id, unknown.author_handle) == ("9103", None)
        quoted = items["1900000000000000101"]  # page 2 carried errors[] beside data
        assert quoted.parent_external_id is None  # a quote is not a reply

    def test_rate_limit_headers_reach_each_page(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_cassette(cassette("x", "mentions_two_pages"))
        pages = pull_all(x_connector(), "mentions", None)

        assert [p.rate_limit.remaining for p in pages if p.rate_limit] == [299, 298]
        assert pages[0].rate_limit is not None
        assert pages[0].rate_limit.reset_at == utc("2026-11-20T12:15:00Z")

    def test_empty_poll_keeps_the_cursor(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_json("GET", MENTIONS_PATH, {"meta": {"result_count": 0}})
        pages = pull_all(x_connector(), "mentions", "1900000000000000050")

        assert len(pages) == 1
        assert pages[0].items == []
        assert pages[0].cursor == "1900000000000000050"

    def test_malformed_tweets_are_quarantined_not_raised(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_cassette(cassette("x", "mentions_malformed_tweet"))
        (page,) = pull_all(x_connector(), "mentions", None)

        assert [i.external_id for i in page.items] == ["1900000000000000202"]
        reasons = sorted(q.reason for q in page.quarantined)
        assert reasons == ["mention with missing or unparseable created_at",
                           "mention without id", "mention without text"]
        assert all(q.raw for q in page.quarantined)
        assert page.cursor == "1900000000000000205"

    def test_a_walk_at_its_page_cap_stops_and_the_next_pull_resumes_it(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        newest = 1900000000000001000
        for n in range(MENTIONS_MAX_REQUESTS + 1):
            last = n == MENTIONS_MAX_REQUESTS
            replay_server.add_json("GET", MENTIONS_PATH,
                                   mentions_page([newest - n], None if last else f"t{n}"))
        pages, stopped = pull_until_stopped(x_connector(), "mentions", "1800000000000000000")

        assert isinstance(stopped, WalkIncomplete)
        assert len(replay_server.requests) == len(pages) == MENTIONS_MAX_REQUESTS
        assert_watermark_only_on_last_page([*pages, pages[-1]], "1800000000000000000")
        resumed = pull_all(x_connector(), "mentions", pages[-1].cursor)

        request = replay_server.requests[-1]
        assert request.param("pagination_token") == f"t{MENTIONS_MAX_REQUESTS - 1}"
        assert request.param("since_id") == "1800000000000000000"
        assert [i.external_id for i in resumed[0].items] == [str(newest - MENTIONS_MAX_REQUESTS)]
        assert resumed[-1].cursor == str(newest), "page 1's newest_id, written at the end"
        assert not resumed[-1].warnings

    def test_a_walk_that_reaches_the_800_mention_reach_warns(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        newest = 1900000000000001000
        for n in range(MENTIONS_MAX_REQUESTS):
            ids = [newest - 100 * n - k for k in range(100)]
            last = n == MENTIONS_MAX_REQUESTS - 1
            replay_server.add_json("GET", MENTIONS_PATH,
                                   mentions_page(ids, None if last else f"t{n}"))
        pages = pull_all(x_connector(), "mentions", None)

        assert pages[-1].warnings == [LOST_MENTIONS_WARNING]
        assert pages[-1].cursor == str(newest)

    def test_a_repeated_token_stops_the_walk_and_keeps_the_old_watermark(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_json("GET", MENTIONS_PATH, mentions_page([1900000000000000300], "a"))
        replay_server.add_json("GET", MENTIONS_PATH, mentions_page([1900000000000000200], "a"))
        pages, stopped = pull_until_stopped(x_connector(), "mentions", "1900000000000000050")

        assert isinstance(stopped, PaginationLoop)
        assert "repeated" in str(stopped) and "without moving the watermark" in str(stopped)
        assert len(replay_server.requests) == 2
        assert [i.external_id for p in pages for i in p.items] == [
            "1900000000000000300", "1900000000000000200"]
        assert pages[-1].cursor == "1900000000000000050", "the next pass walks again"

    def test_a_rate_limit_mid_walk_leaves_the_resume_point_with_the_pages_read(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_json("GET", MENTIONS_PATH, mentions_page([1900000000000000300], "a"))
        replay_server.add_json("GET", MENTIONS_PATH, {"title": "Too Many Requests"}, status=429,
                               headers={"x-rate-limit-reset": "1795176000"})
        pages, stopped = pull_until_stopped(x_connector(), "mentions", "1900000000000000050")

        assert isinstance(stopped, RateLimited)
        state = WalkCursor.parse(pages[-1].cursor)
        assert state == WalkCursor("1900000000000000050", "1900000000000000300", "a", 1)


class TestDirectMessages:
    def test_walk_stops_at_the_known_event_id(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_cassette(cassette("x", "dms_stop_at_known_id"))
        pages = pull_all(x_connector(), "dms", "1900000000000000402")

        assert len(replay_server.requests) == 2  # page 3 is never asked for
        ids = [i.external_id for p in pages for i in p.items]
        assert ids == ["1900000000000000406", "1900000000000000405",
                       "1900000000000000404", "1900000000000000403"]
        assert_watermark_only_on_last_page(pages, "1900000000000000402")
        assert watermark(pages[-1].cursor) == "1900000000000000406"
        assert replay_server.requests[1].param("pagination_token") == "dmpage2"
        assert replay_server.requests[0].param("event_types") == "MessageCreate"

    def test_own_message_is_an_outbound_echo_and_threads_on_the_conversation(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_cassette(cassette("x", "dms_stop_at_known_id"))
        items = {i.external_id: i for p in pull_all(x_connector(), "dms", "1900000000000000402")
                 for i in p.items}

        assert items["1900000000000000405"].direction is Direction.OUTBOUND
        customer = items["1900000000000000404"]
        assert customer.direction is Direction.INBOUND
        assert customer.channel is Channel.DM
        assert customer.thread_key == "9000-9102"
        assert customer.author_handle == "bob_b"

    def test_next_token_without_data_ends_the_walk(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_cassette(cassette("x", "dms_next_token_without_data"))
        pages = pull_all(x_connector(), "dms", None)

        assert len(replay_server.requests) == 2
        assert [i.external_id for p in pages for i in p.items] == ["1900000000000000502"]
        assert [q.reason for p in pages for q in p.quarantined] == ["DM event without text"]
        assert watermark(pages[-1].cursor) == "1900000000000000502"

    def test_nothing_new_keeps_the_cursor(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_cassette(cassette("x", "dms_stop_at_known_id"))
        pages = pull_all(x_connector(), "dms", "1900000000000000406")

        assert [p.items for p in pages] == [[]]
        assert watermark(pages[-1].cursor) == "1900000000000000406"


    def test_a_walk_at_its_page_cap_resumes_and_stops_at_the_old_watermark(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        newest, known = 1900000000000005000, "1900000000000000001"
        for n in range(DM_MAX_REQUESTS):
            replay_server.add_json("GET", DM_PATH, dm_page([newest - 2 * n, newest - 2 * n - 1],
                                                           f"d{n}"))
        pages, stopped = pull_until_stopped(x_connector(), "dms", known)
        assert isinstance(stopped, WalkIncomplete)
        assert_watermark_only_on_last_page([*pages, pages[-1]], known)

        replay_server.add_json("GET", DM_PATH, dm_page([1900000000000000002, int(known)], "dx"))
        resumed = pull_all(x_connector(), "dms", pages[-1].cursor)

        assert replay_server.requests[-1].param("pagination_token") == f"d{DM_MAX_REQUESTS - 1}"
        assert [i.external_id for p in resumed for i in p.items] == ["1900000000000000002"]
        assert watermark(resumed[-1].cursor) == str(newest), "the newest event of the walk"
        assert len(replay_server.requests) == DM_MAX_REQUESTS + 1

    def test_a_repeated_token_on_a_first_walk_stores_no_watermark(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_json("GET", DM_PATH, dm_page([1900000000000000300], "a"))
        replay_server.add_json("GET", DM_PATH, dm_page([1900000000000000200], "a"))
        pages, stopped = pull_until_stopped(x_connector(), "dms", None)

        assert isinstance(stopped, PaginationLoop)
        assert WalkCursor.parse(pages[-1].cursor) == WalkCursor(None)

    def test_a_refused_resume_token_walks_again_from_the_newest(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        stale = WalkCursor("1900000000000000100", "1900000000000000400", "expired", 3).encode()
        replay_server.add_json("GET", DM_PATH, {"title": "Invalid Request"}, status=400)
        replay_server.add_json("GET", DM_PATH, dm_page([1900000000000000500,
                                                        1900000000000000100], "z"))
        pages = pull_all(x_connector(), "dms", stale)

        first, second = replay_server.requests
        assert first.param("pagination_token") == "expired"
        assert second.param("pagination_token") is None
        assert watermark(pages[-1].cursor) == "1900000000000000500"

    def test_a_403_names_the_direct_message_permission(
        self, replay_server: ReplayServer, x_connector: XFactory
    ) -> None:
        replay_server.add_json("GET", DM_PATH, {
            "title": "Forbidden", "status": 403,
            "type": "https://api.x.com/2/problems/oauth1-permissions",
            "detail": "Your client app is not configured with the appropriate oauth1 app "
                      "permissions for this endpoint."}, status=403)
        with pytest.raises(FatalAPIError) as caught:
            pull_all(x_connector(), "dms", None)

        assert "'Read, write and Direct Messages' permission" in str(caught.value)
        assert "regenerate the access token" in str(caught.value)


class TestRecordedCassettes:
    """tweepy's own recordings: default fields only, so no created_at; nothing may crash."""

    def test_recorded_mentions_replay_through_tweepy(
        self, replay_server: ReplayServer, recorded_dir: Path
    ) -> None:
        replay_server.add_cassette(
            recorded_dir / "tweepy/cassettes/test_client_get_users_mentions.yaml")
        replay_server.add_json("GET", "/2/users/783214/mentions", {"meta": {"result_count": 0}})
        connector = _connector_for(replay_server, user_id="783214")
        pages = pull_all(connector, "mentions", None)

        quarantined = [q for p in pages for q in p.quarantined]
        assert len(quarantined) == 10
        assert {q.reason for q in quarantined} == {
            "mention with missing or unparseable created_at"}
        assert watermark(pages[-1].cursor) == "1578516295611748353"
        assert pages[0].rate_limit is not None and pages[0].rate_limit.limit == 450

    def test_recorded_empty_dm_list_is_no_items(
        self, replay_server: ReplayServer, recorded_dir: Path
    ) -> None:
        replay_server.add_cassette(
            recorded_dir / "tweepy/cassettes/test_manage_and_lookup_direct_messages.yaml",
            only=["/2/dm_events"])
        pages = pull_all(_connector_for(replay_server, user_id="1072250532645998596"), "dms", None)

        assert [p.items for p in pages] == [[]]
        assert pages[-1].cursor is None

    def test_twarc_page_served_as_mentions_joins_authors_despite_errors(
        self, replay_server: ReplayServer, recorded_dir: Path
    ) -> None:
        page = json.loads((recorded_dir / "twarc-csv/test-data/kpop.jsonl").read_text()
                          .splitlines()[0])
        page.pop("__twarc")
        replay_server.add_json("GET", MENTIONS_PATH, page)
        replay_server.add_json("GET", MENTIONS_PATH, {"meta": {"result_count": 0}})
        pages = pull_all(_connector_for(replay_server, user_id=X_USER_ID), "mentions", None)

        items = [i for p in pages for i in p.items]
        assert len(items) == 100
        assert len({i.external_id for i in items}) == 100
        assert all(i.author_handle for i in items)
        assert pages[-1].cursor == page["meta"]["newest_id"]


FAULTS = [
    ("mentions_429_reset_header", RateLimited, utc("2026-11-20T12:15:00Z")),
    ("mentions_429_daily_cap", RateLimited, utc("2026-11-21T08:00:00Z")),
    ("mentions_429_without_reset", RateLimited, NOW + timedelta(minutes=15)),
    ("mentions_401_problem_json", AuthExpired, None),
    ("mentions_403_forbidden", FatalAPIError, None),
    ("mentions_5xx_storm", RetriableAPIError, None),
    ("mentions_truncated_json", MalformedPayload, None),
]


@pytest.mark.parametrize(("scenario", "error", "reset_at"), FAULTS,
                         ids=[f[0] for f in FAULTS])
def test_fault_maps_to_connector_error(
    replay_server: ReplayServer, x_connector: XFactory, scenario: str,
    error: type[ConnectorError], reset_at: datetime | None,
) -> None:
    replay_server.add_cassette(cassette("x", scenario))
    with pytest.raises(error) as caught:
        pull_all(x_connector(), "mentions", "1900000000000000050")

    assert type(caught.value) is error
    if reset_at is not None:
        assert isinstance(caught.value, RateLimited)
        assert caught.value.reset_at == reset_at
    for secret in ALL_SECRET_VALUES:
        assert secret not in str(caught.value)
    assert caught.value.__cause__ is None


def test_rate_limit_is_not_retried(
    replay_server: ReplayServer, x_connector: XFactory, sleeps: list[float]
) -> None:
    replay_server.add_cassette(cassette("x", "mentions_429_reset_header"))
    with pytest.raises(RateLimited):
        pull_all(x_connector(), "mentions", None)
    assert (len(replay_server.requests), sleeps) == (1, [])


def test_server_errors_are_retried_with_backoff(
    replay_server: ReplayServer, x_connector: XFactory, sleeps: list[float]
) -> None:
    replay_server.add_cassette(cassette("x", "mentions_5xx_storm"))
    with pytest.raises(RetriableAPIError):
        pull_all(x_connector(), "mentions", None)
    assert len(replay_server.requests) == 3
    assert sleeps == [0.375, 0.75]  # 0.5 s then 1 s ceilings, jitter fixed at 0.5


def test_one_server_error_then_success_recovers(
    replay_server: ReplayServer, x_connector: XFactory
) -> None:
    replay_server.add_cassette(cassette("x", "mentions_5xx_then_ok"))
    pages = pull_all(x_connector(), "mentions", "1900000000000000050")
    assert pages[-1].cursor == "1900000000000000050"


def test_unauthorized_tells_the_user_what_to_do(
    replay_server: ReplayServer, x_connector: XFactory
) -> None:
    replay_server.add_cassette(cassette("x", "mentions_401_problem_json"))
    with pytest.raises(AuthExpired) as caught:
        pull_all(x_connector(access_token_env="BRAND_X_ACCESS_TOKEN"), "mentions", None)
    message = str(caught.value)
    assert "regenerate the access token and secret" in message
    assert "developer portal" in message
    assert "BRAND_X_ACCESS_TOKEN" in message


def test_connection_refused_is_retried_then_retriable_without_secrets(
    fast_retry: RetryPolicy, sleeps: list[float]
) -> None:
    port = closed_port()
    account = _account(f"http://127.0.0.1:{port}", user_id=X_USER_ID)
    connector = XConnector(account, retry=fast_retry)
    with pytest.raises(RetriableAPIError) as caught:
        pull_all(connector, "mentions", None)
    assert len(sleeps) == 2
    assert str(caught.value) == f"X mentions: cannot reach 127.0.0.1:{port}: connection refused"
    for secret in ALL_SECRET_VALUES:
        assert secret not in str(caught.value)


def test_adapter_is_mounted_for_both_x_hosts_with_a_timeout() -> None:
    connector = XConnector(_account(None, user_id=X_USER_ID))
    for host in ("https://api.twitter.com/2/users/me", "https://api.x.com/2/users/me"):
        adapter = connector.client.session.get_adapter(host)
        assert isinstance(adapter, BaseUrlAdapter)
        assert adapter.base is None and adapter.timeout == DEFAULT_TIMEOUT


@pytest.mark.parametrize(("options", "secrets", "missing"), [
    ({}, X_SECRETS, "user_id"),
    ({"user_id": X_USER_ID}, {**X_SECRETS, "access_token_secret": ""}, "access_token_secret_env"),
])
def test_missing_settings_raise_configuration_error(
    options: dict[str, str], secrets: dict[str, str], missing: str
) -> None:
    account = AccountSettings(name="brand-x", platform="x", base_url=None,
                              secrets=secrets, options=options)
    with pytest.raises(ConfigurationError, match=missing):
        XConnector(account)


def test_plain_http_base_url_off_loopback_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="loopback"):
        XConnector(_account("http://sandbox.example.com:8080", user_id=X_USER_ID))


def test_unknown_stream_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="timeline"):
        XConnector(_account(None, user_id=X_USER_ID)).pull("timeline", None)


def _account(base_url: str | None, user_id: str) -> AccountSettings:
    return AccountSettings(name="brand-x", platform="x", base_url=base_url,
                           secrets=X_SECRETS, options={"user_id": user_id})


def _connector_for(server: ReplayServer, user_id: str) -> XConnector:
    return XConnector(_account(server.base_url, user_id), now=lambda: NOW)
