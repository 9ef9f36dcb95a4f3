"""The Facebook Page connector: feed (visitor posts and comments) and Messenger, over the Graph API.

Graph's `since` filters posts, not comments, and conversations have no time paging, so both
streams keep a time watermark and re-walk what may have changed since it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests

from connectors._http import (
    Redactor,
    RetryPolicy,
    TransientFailure,
    graph_rate_limit,
    graph_usage,
    max_response_bytes,
    mount_base_url,
    parse_base_url,
    write_failure,
)
from connectors._payload import WrongType, kind_of, optional_text, platform_id
from connectors.base import (
    AccountSettings,
    ActionKind,
    AuthExpired,
    Channel,
    ConfigurationError,
    Connector,
    ConnectorError,
    Direction,
    FatalAPIError,
    InboundItem,
    MalformedPayload,
    OutboundAction,
    PaginationLoop,
    PullPage,
    QuarantinedItem,
    RateLimited,
    RateLimitStatus,
    ReconcileUnsupported,
    RetriableAPIError,
    SendOutcomeUnknown,
    SendReceipt,
    utc_now,
)
from connectors.graph_walk import (
    Link,
    ListSource,
    ListWalk,
    PageBuilder,
    Sizes,
    StreamCursor,
    WalkState,
    graph_time,
)

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

RATE_LIMIT_FALLBACK = timedelta(minutes=5)
"""Pause when a throttling error comes without `estimated_time_to_regain_access`."""
WATERMARK_OVERLAP = timedelta(minutes=5)
"""Each poll re-reads this much before the watermark. A walk reads the top of the feed
first and older posts' comments later, so the newest item it saw can be newer than one
written at the top after the top was read; ingest's unique key absorbs the repeats
(found by benchmarks/soak.py)."""

AUTH_CODES = frozenset({190, 102})
AUTH_SUBCODES = frozenset({460, 463, 467})
"""460 password changed, 463 expired, 467 invalid: the token is dead."""

THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001})
"""App, user, Page, custom and Business Use Case throttling; 613/80001 are unconfirmed."""

TRANSIENT_CODES = frozenset({1, 2})
"""Unknown error and service unavailable: retry."""
TOO_MUCH_DATA = "reduce the amount of data"
"""Code 1 with this message is not transient: the same request fails again (PLATFORMS.md)."""

PERMISSION_CODES = frozenset({10, 100, *range(200, 300)})

EDGE_PERMISSIONS = {
    "feed": "pages_read_engagement and pages_read_user_content (Page task MODERATE for comments)",
    "conversations": "pages_manage_metadata, pages_read_engagement and pages_messaging "
                     "(Page task MESSAGING)",
}
"""What each polled edge needs (Meta: Pages API; Conversations API, 2026-02; Graph ref:
comments, conversations)."""
PERMISSION_PATTERN = re.compile(r"\b(pages_[a-z_]+|business_management|read_insights)\b")

ERROR_MESSAGE_LIMIT = 300

STANDALONE_REASON = (
    "kept without the post or conversation it belongs to (by an older socialdesk); "
    "it cannot be read alone"
)


READ_PERMISSIONS = (
    "pages_manage_metadata", "pages_messaging", "pages_read_engagement",
    "pages_read_user_content",
)
"""What reading the feed and Messenger needs (Meta: Pages API; Conversations API, 2026-02)."""
APPROVED_STATUS = "live"
"""`status` of a permission approved through App Review in `/{app-id}/permissions` (Graph
ref: Application Permission); the reference lists no other value we could confirm."""


@dataclass(frozen=True)
class AppAccess:
    """The app a Page token belongs to and its permissions with Advanced Access (None when
    they could not be read: no app secret configured)."""

    app_id: str
    name: str
    advanced: frozenset[str] | None

    def standard_only(self) -> list[str]:
        """The read permissions that have only Standard Access."""
        if self.advanced is None:
            return []
        return [p for p in READ_PERMISSIONS if p not in self.advanced]


class DataTooLarge(ConnectorError):
    """Graph code 1 "Please reduce the amount of data you're asking for": not transient,
    the same request fails again; a smaller page may pass."""


class _GraphSender:
    """The write side of `FacebookConnector`: comment replies, hides, private replies,
    Messenger messages, and finding them again after a doubtful send."""

    page_id: str
    root: str
    token: str
    session: requests.Session
    redactor: Redactor
    now: Callable[[], datetime]
    _read: Callable[[requests.Response, str], dict[str, Any]]
    _get: Callable[..., tuple[dict[str, Any], Mapping[str, str]]]

    def send(self, action: OutboundAction) -> SendReceipt:
        if action.kind is ActionKind.REPLY:
            body = self._post(f"{action.target_id}/comments", "comment reply",
                              {"message": action.text or ""})
            return SendReceipt(self._new_id(body, "id", "comment reply"), Channel.COMMENT,
                               created_at=self.now(), raw=body)
        if action.kind in (ActionKind.HIDE, ActionKind.UNHIDE):
            hidden = "true" if action.kind is ActionKind.HIDE else "false"
            body = self._post(str(action.target_id), action.kind.value, {"is_hidden": hidden})
            if body.get("success") is not True:
                raise SendOutcomeUnknown(f"Graph {action.kind.value}: no success in the answer")
            return SendReceipt(None, raw=body)
        if action.kind is ActionKind.PRIVATE_REPLY:
            return self._send_private_reply(action)
        return self._send_messenger(action)

    def _send_private_reply(self, action: OutboundAction) -> SendReceipt:
        """One message per comment or visitor post, within 7 days of it (Meta: private replies)."""
        key = "post_id" if action.target_channel is Channel.VISITOR_POST else "comment_id"
        body = self._post(f"{self.page_id}/messages", "private reply", {
            "recipient": json.dumps({key: action.target_id}),
            "message": json.dumps({"text": action.text or ""}),
            "messaging_type": "RESPONSE",
        })
        message_id = self._new_id(body, "message_id", "private reply")
        person = _str_or_none(body.get("recipient_id")) or action.recipient_id
        return SendReceipt(message_id, Channel.MESSENGER, self._conversation_of(person),
                           created_at=self.now(), raw=body)

    def _send_messenger(self, action: OutboundAction) -> SendReceipt:
        """RESPONSE inside 24 h of the person's last message; MESSAGE_TAG + HUMAN_AGENT after."""
        params = {
            "recipient": json.dumps({"id": action.recipient_id}),
            "message": json.dumps({"text": action.text or ""}),
            "messaging_type": action.messaging_type or "RESPONSE",
        }
        if action.tag:
            params["tag"] = action.tag
        body = self._post(f"{self.page_id}/messages", "Messenger message", params)
        message_id = self._new_id(body, "message_id", "Messenger message")
        thread = action.thread_key or self._conversation_of(action.recipient_id)
        return SendReceipt(message_id, Channel.MESSENGER, thread, created_at=self.now(), raw=body)

    def _conversation_of(self, person: str | None) -> str | None:
        """The Messenger conversation with `person`, where the sent message lands; best effort."""
        if not person:
            return None
        try:
            body, _ = self._get(f"{self.root}/{self.page_id}/conversations",
                                [("platform", "messenger"), ("user_id", person),
                                 ("fields", "id")], what="conversation lookup")
        except ConnectorError as error:
            log.info("conversation of a sent message not found: %s", error)
            return None
        found = _data_list(body)
        return _str_or_none(found[0].get("id")) if found and isinstance(found[0], dict) else None

    def find_sent(self, action: OutboundAction) -> SendReceipt | None:
        """Our comment among the target's replies, or our message in the Messenger thread."""
        if action.kind is ActionKind.REPLY:
            return self._find_comment(action)
        if action.kind is ActionKind.PRIVATE_REPLY:
            return self._find_private_reply(action)
        if action.kind is ActionKind.DIRECT_MESSAGE and action.thread_key:
            return self._find_message(action.thread_key, action)
        raise ReconcileUnsupported(f"Graph cannot tell whether this {action.kind.value} happened")

    def _find_comment(self, action: OutboundAction) -> SendReceipt | None:
        """Graph threads a reply to a reply under the top-level comment: look under both."""
        for node in dict.fromkeys([action.target_id, action.thread_key]):
            if not node:
                continue
            body, _ = self._get(f"{self.root}/{node}/comments", [
                ("filter", "stream"), ("order", "reverse_chronological"), ("limit", "100"),
                ("fields", "id,message,created_time,from")], what="comments")
            found = self._own(_data_list(body), "message", action)
            if found is not None:
                return SendReceipt(str(found["id"]), Channel.COMMENT, created_at=parse_graph_time(
                    found.get("created_time")), raw=found)
        return None

    def _find_private_reply(self, action: OutboundAction) -> SendReceipt | None:
        """A comment names its `private_reply_conversation` once one was sent; a visitor
        post does not, so its author's conversation is searched (inference)."""
        conversation: str | None = None
        if action.target_channel is not Channel.VISITOR_POST:
            body, _ = self._get(f"{self.root}/{action.target_id}",
                                [("fields", "private_reply_conversation")], what="comment")
            linked = body.get("private_reply_conversation")
            conversation = _str_or_none(linked.get("id")) if isinstance(linked, dict) else None
            if conversation is None:
                return None
        conversation = conversation or self._conversation_of(action.recipient_id)
        if conversation is None:
            raise ReconcileUnsupported("Graph names no conversation for this visitor post")
        return self._find_message(conversation, action)

    def _find_message(self, conversation: str, action: OutboundAction) -> SendReceipt | None:
        body, _ = self._get(f"{self.root}/{conversation}/messages",
                            [("fields", "id,message,from,created_time"), ("limit", "50")],
                            what="messages")
        found = self._own(_data_list(body), "message", action)
        if found is None:
            return None
        return SendReceipt(str(found["id"]), Channel.MESSENGER, conversation,
                           created_at=parse_graph_time(found.get("created_time")), raw=found)

    def _own(self, objects: list[Any], text_key: str,
             action: OutboundAction) -> dict[str, Any] | None:
        """The first object by the Page with the action's text, not older than the action."""
        start = action.not_before - RECONCILE_SLACK if action.not_before else None
        for candidate in objects:
            if not isinstance(candidate, dict) or _author_id_or_none(candidate) != self.page_id:
                continue
            created = parse_graph_time(candidate.get("created_time"))
            text = candidate.get(text_key)
            if (isinstance(text, str) and action.text is not None
                    and text.split() == action.text.split()
                    and (start is None or created is None or created >= start)):
                return candidate
        return None

    def _post(self, path: str, what: str, params: dict[str, str]) -> dict[str, Any]:
        """One POST, no retry: a write retried after a timeout could be performed twice."""
        url = f"{self.root}/{path}"
        try:
            response = self.session.post(url, data={**params, "access_token": self.token})
        except WRITE_NETWORK_ERRORS as exc:
            raise write_failure(exc, f"Graph {what}", self.redactor) from None
        try:
            return self._read(response, what)
        except TransientFailure as failure:
            if isinstance(failure.error, MalformedPayload):
                raise SendOutcomeUnknown(f"Graph {what}: the answer is not JSON") from None
            raise failure.error from None
        except FatalAPIError as error:
            raise FatalAPIError(_write_refusal(str(error), what)) from None

    @staticmethod
    def _new_id(body: Mapping[str, Any], key: str, what: str) -> str:
        new_id = _str_or_none(body.get(key))
        if new_id is None:
            raise SendOutcomeUnknown(f"Graph accepted the {what} but answered without its id")
        return new_id


WRITE_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
)

RECONCILE_SLACK = timedelta(minutes=2)
"""Clocks differ: look a little before the moment the action was queued."""

WRITE_REFUSALS = (
    ("code 10/2018278", "outside the messaging window: Messenger allows RESPONSE for 24 hours "
     "after the person's last message and HUMAN_AGENT for 7 days; a private reply only within "
     "7 days of the comment"),
    ("code 10/2018108", "Facebook allows one private reply per comment or post, and one was "
     "already sent"),
    ("code 100/2018001", "no Messenger user with this id"),
    ("code 100/2018292", "this comment or post cannot receive a private reply"),
)


def _write_refusal(message: str, what: str) -> str:
    """Graph's refusal of a write, in words an operator can act on."""
    for fragment, reason in WRITE_REFUSALS:
        if fragment in message:
            return f"{reason} (Graph {what}: {fragment})"
    return message


class FacebookConnector(_GraphSender, Connector):  # type: ignore[misc]
    """Pulls a Page's feed (visitor posts, comments) and Messenger conversations."""

    platform = "facebook"
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
        self.retry = retry or RetryPolicy()
        self.now = now
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

    # --- health (socialdesk doctor) -------------------------------------------------------

    def whoami(self) -> dict[str, str]:
        """`GET /{page-id}?fields=id,name` with the Page token.

        Raises: AuthExpired on code 190, RateLimited when throttled, FatalAPIError otherwise.
        """
        body, _ = self._get(f"{self.root}/{self.page_id}", [("fields", "id,name")], "page")
        return {"id": str(body.get("id", "")), "name": str(body.get("name", ""))}

    def check_edge(self, edge: str) -> None:
        """One read of an edge socialdesk polls (`feed`, `conversations`); raises as `whoami`,
        naming the permission or Page task behind a code 10 or 200-299 refusal."""
        params = [("limit", "1")] + ([("platform", "messenger")] if edge == "conversations" else [])
        try:
            self._get(f"{self.root}/{self.page_id}/{edge}", params, edge)
        except FatalAPIError as error:
            code = re.search(r"code (\d+)", str(error))
            if code and int(code[1]) in PERMISSION_CODES:
                needs = EDGE_PERMISSIONS[edge]
                raise FatalAPIError(f"{error}; reading {edge} needs {needs}") from None
            raise

    def app_access(self) -> AppAccess:
        """The app behind the Page token, and which permissions socialdesk reads with have
        Advanced Access.

        Permissions with Standard Access reach only people with a role on the app; Advanced
        Access is granted per permission through App Review (Meta: Access Levels).
        `GET /app` names the token's app; `GET /{app-id}/permissions` lists the permissions
        approved through review and needs an app token, the app id and its secret (Graph
        ref: Application Permissions). Without `app_secret_env` the level stays unknown.
        """
        body, _ = self._get(f"{self.root}/app", [("fields", "id,name")], "app")
        app_id = _str_or_none(body.get("id")) or ""
        name = _str_or_none(body.get("name")) or app_id
        secret = self.account.secrets.get("app_secret")
        if not app_id or not secret:
            return AppAccess(app_id, name, None)
        body, _ = self._get(f"{self.root}/{app_id}/permissions", [], "app permissions",
                            token=f"{app_id}|{secret}")
        approved = frozenset(
            str(entry.get("permission")) for entry in _data_list(body)
            if isinstance(entry, dict) and entry.get("status") == APPROVED_STATUS)
        return AppAccess(app_id, name, approved)

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
        post_id = _loose_id(post)
        created = parse_graph_time(post.get("created_time"))
        visitor = self._is_visitor_post(post)
        if visitor and (created is None or created >= floor):
            page.add(self._post_item(post))
        for comment in self._new_comments(post, floor):
            page.add(self._comment_item(comment, post_id, visitor))

    def _is_visitor_post(self, post: Mapping[str, Any]) -> bool:
        """Posts by anyone but the Page; a post whose author is withheld counts as a visitor's.

        The Page's own posts are not customer messages; a missing `from` means Graph hid a
        person, and dropping their post would lose a customer. An author that cannot be
        read counts as a visitor's too, so the post is set aside with the reason.
        """
        return _author_id_or_none(post) != self.page_id

    def _post_item(self, post: Mapping[str, Any]) -> InboundItem | QuarantinedItem:
        """A visitor post as an item, or set aside when its id or time cannot be read."""
        post_id = _loose_id(post)
        created = parse_graph_time(post.get("created_time"))
        if post_id is None or created is None:
            reason = ("visitor post without id" if post_id is None
                      else "visitor post with unparseable created_time")
            return QuarantinedItem(reason=reason, raw=_kept_post(post), external_id=post_id)
        return self._visitor_post_item(post, post_id, created)

    def _visitor_post_item(
        self, post: Mapping[str, Any], post_id: str, created: datetime
    ) -> InboundItem | QuarantinedItem:
        """Set aside (without its comments, which are read apart) when a field has the
        wrong type."""
        try:
            author_id, author_name = _author(post)
            text = _text(post)
        except WrongType as wrong:
            return QuarantinedItem(reason=f"visitor post {wrong}", raw=_kept_post(post),
                                   external_id=post_id)
        return InboundItem(
            platform=self.platform,
            external_id=post_id,
            channel=Channel.VISITOR_POST,
            direction=Direction.INBOUND,
            thread_key=post_id,
            text=text,
            created_at=created,
            author_id=author_id,
            author_name=author_name,
            raw=post,
        )

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
            for entry in _data_list(edge):
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

    def _comment_item(
        self, comment: Any, post_id: str | None, on_visitor_post: bool
    ) -> InboundItem | QuarantinedItem:
        """Threads on the top-level comment, or on the visitor post the comment answers.

        Set aside with the post it is under, so `reparse` can thread it alone later.
        """
        kept = {"data": comment, "post": {"id": post_id, "visitor": on_visitor_post}}
        on_visitor_post = on_visitor_post and post_id is not None
        try:
            comment_id, created = _id_and_time(comment)
            parent = comment.get("parent")
            parent_id = _loose_id(parent) if isinstance(parent, dict) else None
            author_id, author_name = _author(comment)
            text = _text(comment)
        except WrongType as wrong:
            return QuarantinedItem(reason=f"comment {wrong}", raw=kept,
                                   external_id=_loose_id(comment))
        return InboundItem(
            platform=self.platform,
            external_id=comment_id,
            channel=Channel.COMMENT,
            direction=self._direction(author_id),
            thread_key=post_id if on_visitor_post else (parent_id or comment_id),
            text=text,
            created_at=created,
            author_id=author_id,
            author_name=author_name,
            parent_external_id=parent_id or (post_id if on_visitor_post else None),
            raw=comment,
        )

    def reparse(
        self, stream: str, raw: Mapping[str, Any]
    ) -> InboundItem | QuarantinedItem | None:
        """A set-aside visitor post, comment or Messenger message read again (no API call).

        `raw` is `{"data": <object>}` for a visitor post, with `"post": {"id", "visitor"}`
        for a comment and `"conversation": {"id"}` for a message. Rows kept by older
        versions hold the bare object, without the post or conversation it belongs to.
        Returns None when the object is no message (the Page's own post).
        """
        payload = raw.get("data")
        post = raw.get("post")
        conversation = raw.get("conversation")
        if stream == "feed" and isinstance(post, dict) and "data" in raw:
            return self._comment_item(payload, _loose_id(post), post.get("visitor") is True)
        if stream == "feed" and set(raw) == {"data"}:
            if not isinstance(payload, dict):
                return QuarantinedItem(reason=f"post is {kind_of(payload)}, not an object",
                                       raw=raw)
            return self._post_item(payload) if self._is_visitor_post(payload) else None
        if stream == "messenger" and isinstance(conversation, dict) and "data" in raw:
            conversation_id = _loose_id(conversation)
            if conversation_id is not None:
                return self._message_item(payload, conversation_id)
        return QuarantinedItem(reason=STANDALONE_REASON, raw=raw)

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
        conversation_id = _str_or_none(conversation.get("id"))
        if conversation_id is None:
            page.add(QuarantinedItem(reason="conversation without id", raw=conversation))
            return
        for message in self._newest_first(conversation.get("messages"),
                                          lambda created: created < floor, "messages"):
            page.add(self._message_item(message, conversation_id))

    def _message_item(self, message: Any, conversation_id: str) -> InboundItem | QuarantinedItem:
        """Attachment-only messages have no `message`: empty text, raw kept. Set aside with
        its conversation, so `reparse` can thread it alone later."""
        kept = {"data": message, "conversation": {"id": conversation_id}}
        try:
            message_id, created = _id_and_time(message)
            author_id, author_name = _author(message)
            text = _text(message)
        except WrongType as wrong:
            return QuarantinedItem(reason=f"message {wrong}", raw=kept,
                                   external_id=_loose_id(message))
        return InboundItem(
            platform=self.platform,
            external_id=message_id,
            channel=Channel.MESSENGER,
            direction=self._direction(author_id),
            thread_key=conversation_id,
            text=text,
            created_at=created,
            author_id=author_id,
            author_name=author_name,
            raw=message,
        )

    def _direction(self, author_id: str | None) -> Direction:
        return Direction.OUTBOUND if author_id == self.page_id else Direction.INBOUND

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
            return self._read(response, what), response.headers

        return self.retry.run(attempt, f"Graph {what}", self.redactor)

    def _read(self, response: requests.Response, what: str) -> dict[str, Any]:
        """The JSON object of a success, or the connector error its `error` object means.

        A 200 whose body is not JSON is most often a connection cut mid-body, so it is
        retried, then reported as `MalformedPayload` (the cursor does not move).
        """
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise self._graph_error(body["error"], response, what)
        if response.status_code >= 500:
            raise TransientFailure(
                RetriableAPIError(f"Graph {what}: HTTP {response.status_code}, retries exhausted")
            )
        if not isinstance(body, dict):
            error = MalformedPayload(f"Graph {what}: the response body is not a JSON object")
            if response.ok:
                raise TransientFailure(error)
            raise error
        if not response.ok:
            raise FatalAPIError(f"Graph {what}: HTTP {response.status_code}, no error object")
        return body

    def _graph_error(
        self, error: Mapping[str, Any], response: requests.Response, what: str
    ) -> ConnectorError | TransientFailure:
        """Map `error.code`/`error_subcode`, never the HTTP status: throttling comes as 400."""
        code, subcode = _int_or_none(error.get("code")), _int_or_none(error.get("error_subcode"))
        graph_message = self.redactor.redact(str(error.get("message", "")))[:ERROR_MESSAGE_LIMIT]
        label = f"Graph {what}: code {code}" + (f"/{subcode}" if subcode else "")
        if code in AUTH_CODES or subcode in AUTH_SUBCODES:
            return AuthExpired(self._auth_advice(label))
        if code in THROTTLE_CODES:
            return self._rate_limited(label, response)
        if code == 1 and TOO_MUCH_DATA in graph_message.lower():
            return DataTooLarge(f"{label}: Graph asks for less data per request")
        if code in TRANSIENT_CODES or response.status_code >= 500:
            return TransientFailure(RetriableAPIError(f"{label}, retries exhausted"))
        if error.get("is_transient") is True:
            return self._rate_limited(label, response)
        return FatalAPIError(_fatal_text(label, code, graph_message))

    def _rate_limited(self, label: str, response: requests.Response) -> RateLimited:
        usage = graph_usage(response.headers)
        wait = (
            timedelta(minutes=usage.regain_minutes)
            if usage.regain_minutes and usage.regain_minutes > 0
            else RATE_LIMIT_FALLBACK
        )
        reset_at = self.now() + wait
        return RateLimited(
            f"{label}: Facebook throttled the Page; next poll after {reset_at.isoformat()}",
            reset_at=reset_at,
        )

    def _auth_advice(self, label: str) -> str:
        env_name = str(
            self.account.options.get("page_token_env") or "the variable named by page_token_env"
        )
        return (
            f"{label} for account {self.account.name!r}: the Page token expired or was "
            f"revoked: generate a new Page access token and update {env_name}"
        )

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


# --- cursors and parsing ------------------------------------------------------------------


def encode_cursor(watermark: datetime) -> str:
    """`{"watermark": "<ISO UTC of the newest item stored>"}`: a finished walk."""
    return StreamCursor(watermark).encode()


def decode_cursor(cursor: str | None) -> tuple[datetime | None, list[str]]:
    """The stored watermark; an unreadable cursor restarts from the lookback, with a warning."""
    stored, warnings = StreamCursor.decode(cursor)
    return stored.watermark, warnings


def parse_graph_time(value: Any) -> datetime | None:
    """Graph's `2021-02-12T16:27:12+0000` as aware UTC, or None when unreadable."""
    return graph_time(value)


def _paging_key(paging: Mapping[str, Any], url: str, query: list[tuple[str, str]]) -> str:
    """The `after` cursor when Graph gives one, else the whole link (time-based paging)."""
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    if isinstance(after, str) and after:
        return f"after:{after}"
    return url + "?" + "&".join(f"{k}={v}" for k, v in query)


def _data_list(body: Mapping[str, Any]) -> list[Any]:
    data = body.get("data")
    return data if isinstance(data, list) else []


def _id_and_time(payload: Any) -> tuple[str, datetime]:
    """A comment's or message's id and time; `WrongType` says why it is set aside instead."""
    if not isinstance(payload, dict):
        raise WrongType(f"is {kind_of(payload)}, not an object")
    item_id = platform_id(payload.get("id"), "id")
    created = parse_graph_time(payload.get("created_time"))
    if item_id is None:
        raise WrongType("without id")
    if created is None:
        raise WrongType("with unparseable created_time")
    return item_id, created


def _author(obj: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """`from.id` and `from.name`; `from` is missing when Graph withholds the person (the
    author is unknown). A `from` that is no object, or an id of no single reading, raises
    `WrongType`: the direction would be a guess. A name that is no text is left out."""
    author = obj.get("from")
    if author is None:
        return None, None
    if not isinstance(author, dict):
        raise WrongType(f"from is {kind_of(author)}, not an object")
    name = author.get("name")
    return platform_id(author.get("id"), "from.id"), name if isinstance(name, str) else None


def _author_id_or_none(obj: Mapping[str, Any]) -> str | None:
    """`from.id` where it can be read, else None (not the Page)."""
    try:
        return _author(obj)[0]
    except WrongType:
        return None


def _text(obj: Mapping[str, Any]) -> str:
    """`message`; absent on attachment-only posts and messages (empty text, raw kept). Any
    other type raises `WrongType`, never stored as empty text."""
    return optional_text(obj.get("message"), "message") or ""


def _kept_post(post: Mapping[str, Any]) -> dict[str, Any]:
    """A set-aside post without its comments: they are items of their own, and a new
    comment must not make the same post a new quarantine row."""
    return {"data": {key: value for key, value in post.items() if key != "comments"}}


def _loose_id(obj: Mapping[str, Any]) -> str | None:
    """`id` where it has a single reading, else None (the object is set aside)."""
    try:
        return platform_id(obj.get("id"), "id")
    except WrongType:
        return None


def _fatal_text(label: str, code: int | None, graph_message: str) -> str:
    """Name the permission Graph names, so the user knows what to grant."""
    if code in PERMISSION_CODES:
        permissions = sorted(set(PERMISSION_PATTERN.findall(graph_message)))
        if permissions:
            return (f"{label}: the Page token lacks a permission ({', '.join(permissions)}); "
                    f"Graph says: {graph_message}")
    return f"{label}: Facebook refused the request; Graph says: {graph_message}"


def _str_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    return str(value)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


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
