"""The Facebook Page connector: feed (visitor posts and comments) and Messenger, over the Graph API.

Graph's `since` filters posts, not comments, and conversations have no time paging, so both
streams keep a time watermark and re-walk what may have changed since it. The objects are
read into items in `facebook_parse`, sends are in `facebook_send`, Graph's error codes in
`facebook_errors` and the doctor's checks in `facebook_health`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests

from connectors._http import (
    Redactor,
    RetryPolicy,
    max_response_bytes,
    mount_base_url,
)
from connectors._payload import data_list, str_or_none
from connectors.base import (
    AccountSettings,
    ConfigurationError,
    Connector,
    FatalAPIError,
    InboundItem,
    MalformedPayload,
    PaginationLoop,
    PullPage,
    QuarantinedItem,
    RateLimitStatus,
    utc_now,
)
from connectors.base_url import parse_base_url
from connectors.facebook_errors import DataTooLarge, GraphErrors
from connectors.facebook_health import GraphHealth
from connectors.facebook_parse import PLATFORM, GraphPayloadParser, loose_id, parse_graph_time
from connectors.facebook_send import GraphSender
from connectors.graph_cursor import Link, StreamCursor, WalkState
from connectors.graph_walk import ListSource, ListWalk, PageBuilder, Sizes
from connectors.rate_headers import graph_rate_limit, graph_usage

log = logging.getLogger(__name__)

GRAPH_HOST = "https://graph.facebook.com"
GRAPH_HOSTNAMES = frozenset({"graph.facebook.com"})
"""Hosts a `paging.next` link may name; any other host would be handed our token."""

DEFAULT_GRAPH_VERSION = "v25.0"
"""Released 2026-02-18, available until 2028-07-29."""

DEFAULT_COMMENT_LOOKBACK_DAYS = 7
"""How far back the first pull reads; a private reply is allowed within 7 days of a comment."""
DEFAULT_POST_HORIZON_DAYS = 30
"""Old posts keep collecting comments and Graph lists the feed by creation: every pull checks
the posts created this many days before its watermark for new comments (`updated_time`)."""

FEED_COMMENT_LIMIT = 50
FEED_FIELDS = (
    "id,message,created_time,updated_time,from,"
    f"comments.filter(stream).order(reverse_chronological).limit({FEED_COMMENT_LIMIT})"
    "{id,message,created_time,from,parent}"
)
"""`filter(stream)` flattens replies into the post's comment list, newest first."""

FEED_PAGE_SIZE = 25

CONVERSATION_MESSAGE_LIMIT = 25
CONVERSATION_FIELDS = (
    f"id,updated_time,participants,messages.limit({CONVERSATION_MESSAGE_LIMIT})"
    "{id,message,from,to,created_time}"
)
CONVERSATION_PAGE_SIZE = 25

MAX_PAGES_PER_PULL = 200
"""List pages one pull reads before it stops with `WalkIncomplete`; the next pull resumes."""
MAX_LINKS_PER_EDGE = 1000
"""A guard against a server handing out fresh cursors forever for one post's comments or one
conversation's messages."""

WATERMARK_OVERLAP = timedelta(minutes=5)
"""Each poll re-reads this much before the watermark. A walk reads the top of the feed
first and older posts' comments later, so the newest item it saw can be newer than one
written at the top after the top was read; ingest's unique key absorbs the repeats
(found by benchmarks/soak.py)."""


class FacebookConnector(GraphSender, GraphHealth, Connector):
    """Pulls a Page's feed (visitor posts, comments) and Messenger conversations."""

    platform = PLATFORM
    streams = ("feed", "messenger")

    def __init__(
        self,
        account: AccountSettings,
        *,
        retry: RetryPolicy | None = None,
        now: Callable[[], datetime] = utc_now,
        page_cap: int = MAX_PAGES_PER_PULL,
    ) -> None:
        self.account = account
        self.page_id = _required(account, "page_id")
        self.token = account.secrets.get("page_token") or ""
        if not self.token:
            raise ConfigurationError(
                f"account {account.name!r}: Facebook needs the variable named by "
                "page_token_env to be set"
            )
        version = str(account.options.get("graph_version") or DEFAULT_GRAPH_VERSION)
        self.root = f"{GRAPH_HOST}/{version.strip('/')}"
        self.lookback = _days(account, "comment_lookback_days", DEFAULT_COMMENT_LOOKBACK_DAYS)
        self.post_horizon = _days(account, "post_horizon_days", DEFAULT_POST_HORIZON_DAYS)
        self.base = parse_base_url(account.base_url)
        self.redactor = Redactor(account.secrets.values())
        self.errors = GraphErrors(account, self.redactor, now)
        self.retry = retry or RetryPolicy()
        self.now = now
        self._parser = GraphPayloadParser(self.page_id)
        self.page_cap = page_cap
        self.session = requests.Session()
        mount_base_url(self.session, account.base_url, (GRAPH_HOST,),
                       max_response_bytes(account.options))

    def pull(self, stream: str, cursor: str | None) -> Iterator[PullPage]:
        if stream == "feed":
            return self._pull_feed(cursor)
        if stream == "messenger":
            return self._pull_messenger(cursor)
        raise ConfigurationError(
            f"Facebook has no stream {stream!r}; known: {', '.join(self.streams)}"
        )


    def reparse(
        self, stream: str, raw: Mapping[str, Any]
    ) -> InboundItem | QuarantinedItem | None:
        """A set-aside visitor post, comment or Messenger message read again (no API call)."""
        return self._parser.reparse(stream, raw)

    # --- feed --------------------------------------------------------------------------

    def _pull_feed(self, cursor: str | None) -> Iterator[PullPage]:
        """Walk the posts created within the post horizon, newest first (Graph lists the
        feed by creation), and the new comments of those active since the watermark: a
        comment moves its post's `updated_time`, so an old post's new comment is found."""
        stored, warnings = StreamCursor.decode(cursor)
        walk = stored.walk or self._fresh_walk(stored.watermark, horizon=True)
        fields = [("fields", FEED_FIELDS)]
        feed = f"{self.root}/{self.page_id}/feed"
        source = ListSource(
            stream="feed", what="feed",
            first=(feed, [*fields, ("limit", str(FEED_PAGE_SIZE)),
                          ("since", str(int((walk.horizon or walk.floor).timestamp())))]),
            scan=None,
            collect=self._collect_post,
            single=lambda post_id: (f"{self.root}/{post_id}", fields),
            sizes=Sizes(FEED_PAGE_SIZE, FEED_COMMENT_LIMIT),
        )
        return ListWalk(source, self, stored, walk, self.page_cap, warnings=warnings).pages()

    def _fresh_walk(self, watermark: datetime | None, *, horizon: bool) -> WalkState:
        """A walk reaching back to the watermark (minus the overlap) or, the first time, to
        the lookback; the feed's also reaches `post_horizon_days` further for old posts."""
        floor = watermark - WATERMARK_OVERLAP if watermark else self.now() - self.lookback
        return WalkState(floor=floor, newest=watermark,
                         horizon=floor - self.post_horizon if horizon else None)

    def _collect_post(self, post: Mapping[str, Any], floor: datetime, page: PageBuilder) -> None:
        """A visitor post is an item; its comments down to the floor are items too.

        A visitor post that cannot be read is set aside and its comments still arrive (each
        threads on its own when the post has no id): one bad object never takes its siblings
        with it. The Page's own posts are no message, so nothing of theirs is set aside.
        """
        post_id = loose_id(post)
        created = parse_graph_time(post.get("created_time"))
        visitor = self._parser.is_visitor_post(post)
        if visitor and (created is None or created >= floor):
            page.add(self._parser.post_item(post))
        for comment in self._new_comments(post, floor):
            page.add(self._parser.comment_item(comment, post_id, visitor))

    def _new_comments(
        self, post: Mapping[str, Any], floor: datetime
    ) -> list[Any]:
        """The post's comments from the floor on, following the nested paging."""
        return self._newest_first(post.get("comments"), lambda created: created < floor,
                                  "comments")

    def _newest_first(
        self, edge: Any, is_old: Callable[[datetime], bool], what: str
    ) -> list[Any]:
        """An inlined edge and its next pages, newest first, up to the first old entry."""
        collected: list[Any] = []
        seen: set[str] = set()
        while isinstance(edge, dict):
            for entry in data_list(edge):
                created = parse_graph_time(entry.get("created_time")) if isinstance(
                    entry, dict) else None
                if created is not None and is_old(created):
                    return collected
                collected.append(entry)
            if len(seen) >= MAX_LINKS_PER_EDGE:
                raise PaginationLoop(f"Graph {what}: paging went past {MAX_LINKS_PER_EDGE} "
                                     "pages of one post or conversation; the watermark stays")
            link = self.follow(edge, seen, what)
            if link is None:
                break
            edge, _ = self._get(*link, what=what)
        return collected

    # --- messenger ---------------------------------------------------------------------

    def _pull_messenger(self, cursor: str | None) -> Iterator[PullPage]:
        """Walk conversations active since the watermark, newest first, and their new messages.

        Graph offers no time paging for conversations; a conversation that gets a message
        during the walk jumps to the top, so the walk checks the top again at its end.
        """
        fields = [("fields", CONVERSATION_FIELDS)]
        conversations = f"{self.root}/{self.page_id}/conversations"
        source = ListSource(
            stream="messenger", what="conversations",
            first=(conversations, [("platform", "messenger"), *fields,
                                   ("limit", str(CONVERSATION_PAGE_SIZE))]),
            scan=(conversations, [("platform", "messenger"), ("fields", "id,updated_time")]),
            collect=self._collect_conversation,
            single=lambda conversation_id: (f"{self.root}/{conversation_id}", fields),
            sizes=Sizes(CONVERSATION_PAGE_SIZE, CONVERSATION_MESSAGE_LIMIT),
        )
        stored, warnings = StreamCursor.decode(cursor)
        walk = stored.walk or self._fresh_walk(stored.watermark, horizon=False)
        return ListWalk(source, self, stored, walk, self.page_cap, warnings=warnings).pages()

    def _collect_conversation(
        self, conversation: Mapping[str, Any], floor: datetime, page: PageBuilder
    ) -> None:
        """Add the conversation's messages from the floor on."""
        conversation_id = str_or_none(conversation.get("id"))
        if conversation_id is None:
            page.add(QuarantinedItem(reason="conversation without id", raw=conversation))
            return
        for message in self._newest_first(conversation.get("messages"),
                                          lambda created: created < floor, "messages"):
            page.add(self._parser.message_item(message, conversation_id))

    # --- HTTP ----------------------------------------------------------------------------

    def finish_page(
        self, stream: str, page: PageBuilder, headers: Mapping[str, str], cursor: StreamCursor
    ) -> PullPage:
        """A `PullPage` carrying the cursor to store with it (see `graph_walk.ListWalk`)."""
        return PullPage(
            stream=stream,
            items=page.items,
            quarantined=page.quarantined,
            cursor=cursor.encode(),
            rate_limit=self._rate_limit(headers),
            warnings=page.warnings,
        )

    def sized_get(
        self, link: Link, sizes: Sizes, what: str, *, listing: bool = True
    ) -> tuple[dict[str, Any], Mapping[str, str], Sizes]:
        """GET asking for `sizes`; halved while Graph answers code 1 "reduce the amount of
        data" (the same request would fail again), down to one entry with one nested each."""
        while True:
            try:
                body, headers = self._get(*sizes.apply(link, listing=listing), what=what)
                return body, headers, sizes
            except DataTooLarge as refusal:
                smaller = sizes.halved()
                if smaller is None:
                    raise FatalAPIError(
                        f"{refusal}: Graph refuses even {sizes.describe()}; a post or "
                        "conversation is too large to read through the API") from None
                log.warning("account %s: %s; asking for %s", self.account.name, refusal,
                            smaller.describe())
                sizes = smaller

    def _rate_limit(self, headers: Mapping[str, str]) -> RateLimitStatus | None:
        return graph_rate_limit(graph_usage(headers), self.now())

    def _get(
        self, url: str, params: list[tuple[str, str]], what: str, token: str | None = None
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """GET with the Page token (or `token`) as `access_token`, retried; returns the JSON
        body and headers."""

        def attempt() -> tuple[dict[str, Any], Mapping[str, str]]:
            response = self.session.get(
                url, params=[*params, ("access_token", token or self.token)])
            log.debug(
                "Graph %s answered %s with Facebook-Api-Version %s",
                what, response.status_code, response.headers.get("facebook-api-version", "-"),
            )
            return self.errors.read(response, what), response.headers

        return self.retry.run(attempt, f"Graph {what}", self.redactor)

    def follow(self, body: Mapping[str, Any], seen: set[str], what: str) -> Link | None:
        """`paging.next` as (canonical URL, query), or None at the end.

        Raises: PaginationLoop when Graph hands back a cursor this walk already followed:
        following it would never end, and moving the watermark would skip what it hid.
        """
        paging = body.get("paging")
        next_url = paging.get("next") if isinstance(paging, dict) else None
        if not isinstance(next_url, str) or not next_url:
            return None
        url, query = self._canonical_link(next_url)
        key = _paging_key(paging, url, query)  # type: ignore[arg-type]
        if key in seen:
            log.warning("account %s: Graph %s paging repeated a cursor", self.account.name, what)
            raise PaginationLoop(f"Graph {what}: paging handed back a cursor already followed; "
                                 "the walk stopped there and the watermark stays where it was")
        seen.add(key)
        return url, query

    def _canonical_link(self, next_url: str) -> tuple[str, list[tuple[str, str]]]:
        """Rewrite a paging link onto the Graph host (the adapter re-hosts it), minus its token.

        Links name the real host, or the sandbox's; any other host would receive the token.
        """
        parts = urlsplit(next_url)
        path = parts.path
        if self.base is not None and (parts.scheme, parts.netloc) == (
            self.base.scheme, self.base.netloc
        ):
            prefix = self.base.path.rstrip("/")
            path = path[len(prefix):] if prefix and path.startswith(prefix) else path
        elif parts.scheme != "https" or parts.hostname not in GRAPH_HOSTNAMES:
            raise MalformedPayload("Graph paging link names an unexpected host; not followed")
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                 if k != "access_token"]
        return urlunsplit(("https", urlsplit(GRAPH_HOST).netloc, path, "", "")), query


def encode_cursor(watermark: datetime) -> str:
    """`{"watermark": "<ISO UTC of the newest item stored>"}`: a finished walk."""
    return StreamCursor(watermark).encode()


def decode_cursor(cursor: str | None) -> tuple[datetime | None, list[str]]:
    """The stored watermark; an unreadable cursor restarts from the lookback, with a warning."""
    stored, warnings = StreamCursor.decode(cursor)
    return stored.watermark, warnings


def _paging_key(paging: Mapping[str, Any], url: str, query: list[tuple[str, str]]) -> str:
    """The `after` cursor when Graph gives one, else the whole link (time-based paging)."""
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    if isinstance(after, str) and after:
        return f"after:{after}"
    return url + "?" + "&".join(f"{k}={v}" for k, v in query)


def _days(account: AccountSettings, key: str, default: int) -> timedelta:
    value = account.options.get(key, default)
    try:
        days = float(value)
    except (TypeError, ValueError):
        days = -1.0
    if days <= 0:
        raise ConfigurationError(
            f"account {account.name!r}: {key} must be a positive number of days"
        )
    return timedelta(days=days)


def _required(account: AccountSettings, key: str) -> str:
    value = account.options.get(key)
    if not value:
        raise ConfigurationError(f"account {account.name!r}: Facebook needs {key}")
    return str(value)
