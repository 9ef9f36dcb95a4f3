"""The Facebook Page connector: feed (visitor posts and comments) and Messenger, over the Graph API.

Graph's `since` filters posts, not comments, and conversations have no time paging, so both
streams keep a time watermark and re-walk what may have changed since it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests

from connectors._http import (
    Redactor,
    RetryPolicy,
    TransientFailure,
    graph_rate_limit,
    graph_usage,
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

log = logging.getLogger(__name__)

GRAPH_HOST = "https://graph.facebook.com"
GRAPH_HOSTNAMES = frozenset({"graph.facebook.com"})
"""Hosts a `paging.next` link may name; any other host would be handed our token."""

DEFAULT_GRAPH_VERSION = "v25.0"
"""Released 2026-02-18, available until 2028-07-29."""

DEFAULT_COMMENT_LOOKBACK_DAYS = 7
"""Old posts keep collecting comments; a private reply is allowed within 7 days of a comment,
so posts this much older than the watermark are re-walked for new comments."""

FEED_FIELDS = (
    "id,message,created_time,updated_time,from,"
    "comments.filter(stream).order(reverse_chronological).limit(50)"
    "{id,message,created_time,from,parent}"
)
"""`filter(stream)` flattens replies into the post's comment list, newest first."""

FEED_PAGE_SIZE = 25

CONVERSATION_FIELDS = (
    "id,updated_time,participants,messages.limit(25){id,message,from,to,created_time}"
)
CONVERSATION_PAGE_SIZE = 25

MAX_LINKS_PER_WALK = 200
"""A guard against a server that keeps handing out fresh cursors forever."""

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

PERMISSION_CODES = frozenset({10, 100, *range(200, 300)})

EDGE_PERMISSIONS = {
    "feed": "pages_read_engagement and pages_read_user_content (Page task MODERATE for comments)",
    "conversations": "pages_messaging (Page task MESSAGING)",
}
"""What each polled edge needs (Meta: Pages API; Graph ref: comments, conversations)."""
PERMISSION_PATTERN = re.compile(r"\b(pages_[a-z_]+|business_management|read_insights)\b")

ERROR_MESSAGE_LIMIT = 300

STANDALONE_REASON = (
    "kept without the post or conversation it belongs to (by an older socialdesk); "
    "it cannot be read alone"
)


@dataclass
class _PageBuilder:
    """Collects one API page's items while comments and messages are walked.

    `emitted` is shared by the pages of one pull: Graph pages can repeat objects (a
    recorded `/posts` page 2 repeats page 1), and each item should reach the store once.
    """

    emitted: set[str]
    items: list[InboundItem] = field(default_factory=list)
    quarantined: list[QuarantinedItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, parsed: InboundItem | QuarantinedItem) -> None:
        if isinstance(parsed, QuarantinedItem):
            self.quarantined.append(parsed)
        elif parsed.external_id not in self.emitted:
            self.emitted.add(parsed.external_id)
            self.items.append(parsed)


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
        self.lookback = _lookback(account)
        self.base = parse_base_url(account.base_url)
        self.redactor = Redactor(account.secrets.values())
        self.retry = retry or RetryPolicy()
        self.now = now
        self.session = requests.Session()
        mount_base_url(self.session, account.base_url, (GRAPH_HOST,))

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

    # --- feed --------------------------------------------------------------------------

    def _pull_feed(self, cursor: str | None) -> Iterator[PullPage]:
        """Walk posts created within the lookback before the watermark, and their new comments."""
        watermark, cursor_warnings = decode_cursor(cursor)
        horizon = (watermark or self.now()) - self.lookback

        def collect(posts: list[Any], page: _PageBuilder) -> bool:
            for post in posts:
                self._collect_post(post, watermark, horizon, page)
            return _all_older_than(posts, horizon)

        yield from self._walk_top_level(
            "feed", "feed",
            (f"{self.root}/{self.page_id}/feed",
             [("fields", FEED_FIELDS), ("limit", str(FEED_PAGE_SIZE)),
              ("since", str(int(horizon.timestamp())))]),
            watermark, cursor_warnings, collect)

    def _walk_top_level(
        self, stream: str, what: str, first: tuple[str, list[tuple[str, str]]],
        newest: datetime | None, warnings: list[str],
        collect: Callable[[list[Any], _PageBuilder], bool],
    ) -> Iterator[PullPage]:
        """A Page's posts or conversations, newest first, a PullPage each, until the pages
        end or `collect` says the rest is older than the stream needs. The cursor (the
        newest item seen) goes out with the last page only, so a crash re-reads the walk."""
        link: tuple[str, list[tuple[str, str]]] | None = first
        seen: set[str] = set()
        emitted: set[str] = set()
        while link is not None:
            body, headers = self._get(*link, what=what)
            page = _PageBuilder(emitted, warnings=warnings)
            warnings = []
            entries = _data_list(body)
            reached_old = collect(entries, page)
            newest = _latest(newest, page.items)
            link = self._next_link(body, seen, page.warnings, len(seen))
            if reached_old or not entries:
                link = None
            yield self._page(stream, page, headers, newest if link is None else None)

    def _collect_post(
        self, post: Any, watermark: datetime | None, horizon: datetime, page: _PageBuilder
    ) -> None:
        """A visitor post is an item; every post within the horizon has its comments walked.

        A visitor post that cannot be read is set aside and its comments are still walked
        (each threads on its own when the post has no id): one bad object never takes its
        siblings with it. The Page's own posts are no message, so nothing is set aside.
        """
        if not isinstance(post, dict):
            page.add(QuarantinedItem(reason="post is not an object", raw={"data": post}))
            return
        post_id = _loose_id(post)
        created = parse_graph_time(post.get("created_time"))
        if created is not None and created < horizon:
            return
        visitor = self._is_visitor_post(post)
        if visitor and (created is None or _is_new(created, watermark)):
            page.add(self._post_item(post))
        for comment in self._new_comments(post, watermark, page.warnings):
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
        self, post: Mapping[str, Any], watermark: datetime | None, warnings: list[str]
    ) -> list[Any]:
        """The post's comments newer than the watermark, following the nested paging."""
        return self._newest_first(post.get("comments"), lambda created: not _is_new(
            created, watermark), warnings, "comments")

    def _newest_first(
        self, edge: Any, is_old: Callable[[datetime], bool], warnings: list[str], what: str
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
            link = self._next_link(edge, seen, warnings, len(seen))
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
        """Walk conversations until one not updated since the watermark, then their new messages."""
        watermark, cursor_warnings = decode_cursor(cursor)
        floor = watermark - WATERMARK_OVERLAP if watermark else self.now() - self.lookback
        yield from self._walk_top_level(
            "messenger", "conversations",
            (f"{self.root}/{self.page_id}/conversations",
             [("platform", "messenger"), ("fields", CONVERSATION_FIELDS),
              ("limit", str(CONVERSATION_PAGE_SIZE))]),
            watermark, cursor_warnings,
            lambda conversations, page: self._collect_conversations(conversations, floor, page))

    def _collect_conversations(
        self, conversations: list[Any], floor: datetime, page: _PageBuilder
    ) -> bool:
        """Add the new messages of each conversation; True once one predates the floor."""
        for conversation in conversations:
            conversation_id = (
                _str_or_none(conversation.get("id")) if isinstance(conversation, dict) else None
            )
            if conversation_id is None:
                raw = conversation if isinstance(conversation, dict) else {"value": conversation}
                page.add(QuarantinedItem(reason="conversation without id", raw=raw))
                continue
            updated = parse_graph_time(conversation.get("updated_time"))
            if updated is not None and updated < floor:
                return True
            for message in self._new_messages(conversation, floor, page.warnings):
                page.add(self._message_item(message, conversation_id))
        return False

    def _new_messages(
        self, conversation: Mapping[str, Any], floor: datetime, warnings: list[str]
    ) -> list[Any]:
        """Messages newer than the floor, newest first, following the messages paging."""
        return self._newest_first(conversation.get("messages"),
                                  lambda created: created < floor, warnings, "messages")

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

    def _page(
        self, stream: str, page: _PageBuilder, headers: Mapping[str, str],
        watermark: datetime | None,
    ) -> PullPage:
        """A `PullPage`; only the last page of a walk gets a watermark (None keeps the cursor)."""
        return PullPage(
            stream=stream,
            items=page.items,
            quarantined=page.quarantined,
            cursor=encode_cursor(watermark) if watermark is not None else None,
            rate_limit=self._rate_limit(headers),
            warnings=page.warnings,
        )

    def _rate_limit(self, headers: Mapping[str, str]) -> RateLimitStatus | None:
        return graph_rate_limit(graph_usage(headers), self.now())

    def _get(
        self, url: str, params: list[tuple[str, str]], what: str
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """GET with the Page token as `access_token`, retried; returns the JSON body and headers."""

        def attempt() -> tuple[dict[str, Any], Mapping[str, str]]:
            response = self.session.get(url, params=[*params, ("access_token", self.token)])
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

    def _next_link(
        self, body: Mapping[str, Any], seen: set[str], warnings: list[str], followed: int
    ) -> tuple[str, list[tuple[str, str]]] | None:
        """`paging.next` as (canonical URL, query), or None at the end or when a cursor repeats."""
        paging = body.get("paging")
        next_url = paging.get("next") if isinstance(paging, dict) else None
        if not isinstance(next_url, str) or not next_url:
            return None
        url, query = self._canonical_link(next_url)
        key = _paging_key(paging, url, query)  # type: ignore[arg-type]
        if key in seen or followed >= MAX_LINKS_PER_WALK:
            problem = ("Graph paging repeated a cursor" if key in seen
                       else f"Graph paging went past {MAX_LINKS_PER_WALK} pages")
            warnings.append(f"{problem}; the walk stopped there")
            log.warning("account %s: %s", self.account.name, problem)
            return None
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
    """`{"watermark": "<ISO UTC of the newest item stored>"}`."""
    return json.dumps({"watermark": watermark.astimezone(UTC).isoformat()})


def decode_cursor(cursor: str | None) -> tuple[datetime | None, list[str]]:
    """The stored watermark; an unreadable cursor restarts from the lookback, with a warning."""
    if not cursor:
        return None, []
    try:
        value = json.loads(cursor)["watermark"]
        watermark = datetime.fromisoformat(value)
    except (ValueError, KeyError, TypeError):
        return None, ["stored Facebook cursor was unreadable; re-read the lookback window"]
    if watermark.tzinfo is None:
        watermark = watermark.replace(tzinfo=UTC)
    return watermark.astimezone(UTC), []


def parse_graph_time(value: Any) -> datetime | None:
    """Graph's `2021-02-12T16:27:12+0000` as aware UTC, or None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None


def _is_new(created: datetime, watermark: datetime | None) -> bool:
    """Within `WATERMARK_OVERLAP` of the watermark or after it; Graph times have whole
    seconds, so even without the overlap the watermark's own second must be re-read."""
    return watermark is None or created >= watermark - WATERMARK_OVERLAP


def _latest(current: datetime | None, items: list[InboundItem]) -> datetime | None:
    times = [item.created_at for item in items]
    if current is not None:
        times.append(current)
    return max(times) if times else None


def _all_older_than(posts: list[Any], horizon: datetime) -> bool:
    """True when every dated post is older than the horizon: later pages are older still."""
    times = [parse_graph_time(p.get("created_time")) for p in posts if isinstance(p, dict)]
    dated = [t for t in times if t is not None]
    return bool(dated) and all(t < horizon for t in dated)


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


def _lookback(account: AccountSettings) -> timedelta:
    value = account.options.get("comment_lookback_days", DEFAULT_COMMENT_LOOKBACK_DAYS)
    try:
        days = float(value)
    except (TypeError, ValueError):
        days = -1.0
    if days <= 0:
        raise ConfigurationError(
            f"account {account.name!r}: comment_lookback_days must be a positive number of days"
        )
    return timedelta(days=days)


def _required(account: AccountSettings, key: str) -> str:
    value = account.options.get(key)
    if not value:
        raise ConfigurationError(f"account {account.name!r}: Facebook needs {key}")
    return str(value)
