"""The X (Twitter API v2) connector: mentions and direct messages, through tweepy.

Reads only what is new, because every X read is billed: `since_id` for mentions and
stop-at-known-id for DM events, which have no `since_id`. A walk cut short (its page cap, a
rate limit, a crash) resumes on the next pass: each page stores a `WalkCursor` that keeps
the old watermark and says where to go on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import requests
import tweepy  # type: ignore[import-untyped]

from connectors._http import (
    Redactor,
    RetryPolicy,
    TransientFailure,
    epoch_to_utc,
    header_int,
    max_response_bytes,
    mount_base_url,
    write_failure,
    x_daily_exhausted_reset,
    x_rate_limit,
)
from connectors._payload import WrongType, aware_time, optional_text, platform_id
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
    ReconcileUnsupported,
    RetriableAPIError,
    SendOutcomeUnknown,
    SendReceipt,
    WalkIncomplete,
    utc_now,
)

log = logging.getLogger(__name__)

X_HOST_PREFIXES = ("https://api.twitter.com", "https://api.x.com")
"""tweepy calls api.twitter.com; X's docs name api.x.com. Both get the adapter."""

MENTIONS_REACH = 800
"""Only the 800 most recent mentions are reachable; older ones are lost to polling."""

MENTIONS_PAGE_SIZE = 100
"""The largest `max_results` the mentions timeline accepts."""

MENTIONS_MAX_REQUESTS = MENTIONS_REACH // MENTIONS_PAGE_SIZE
"""A walk needs no more requests than the reach: 8 pages of 100."""

DM_PAGE_SIZE = 100
"""The largest `max_results` of `GET /2/dm_events`."""

DM_MAX_REQUESTS = 10
"""DM lookup allows 15 requests per 15 min per user: a pass stops after 10 and leaves the
rest of the window to the outbox's look-ups; the next pass resumes where it stopped."""

RATE_LIMIT_FALLBACK = timedelta(minutes=15)
"""X's rate-limit window, used when a 429 names no reset."""

SECRET_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
"""OAuth 1.0a user context: mentions bill as owned reads and DM endpoints refuse app-only auth."""

OPTIONAL_SECRET_KEYS = ("bearer_token",)

TWEET_FIELDS = ["author_id", "created_at", "conversation_id", "in_reply_to_user_id",
                "referenced_tweets"]
"""Without these a mention has only `id`, `text` and `edit_history_tweet_ids`."""

DM_EVENT_FIELDS = ["id", "text", "sender_id", "created_at", "dm_conversation_id", "event_type"]

USER_FIELDS = ["username", "name"]

MESSAGE_CREATE = "MessageCreate"
"""The only DM event type that carries a message; joins and leaves are skipped."""

LOST_MENTIONS_WARNING = (
    f"mentions may be lost: this poll reached X's {MENTIONS_REACH}-mention reach; "
    "poll more often"
)
RESUMES = "the next pass resumes where this one stopped"

DM_PERMISSION = "Read, write and Direct Messages"
WRITE_PERMISSION = "Read and write"
PERMISSION_ADVICE = (
    "the X app lacks the {permission!r} permission needed for {what}: set it under User "
    "authentication settings in the developer portal, then regenerate the access token and "
    "secret (a token keeps the permission it was made with)"
)
"""X's `oauth1-permissions` 403, in words a person can act on (X docs: app permissions)."""

ACCESS_LEVEL_HEADER = "x-access-level"
"""The app's permission on user-context answers: `read`, `read-write`,
`read-write-directmessages`."""

RESUME_PREFIX = "walk:"


@dataclass(frozen=True)
class WalkCursor:
    """A stream's stored cursor: its watermark and, while a walk is unfinished, where it resumes.

    The watermark is the `since_id` of mentions and the newest stored event id of DMs; it
    moves only when a walk reaches its end, so nothing between the old watermark and the
    place a walk stopped is ever skipped. `pending` is the newest id the unfinished walk
    has seen (the watermark it will write at its end), `next_token` the page it resumes
    from, `walked` the items walked so far (the 800-mention reach counts the whole walk).
    A plain id is a watermark alone, as every cursor was before walks could resume.
    """

    watermark: str | None
    pending: str | None = None
    next_token: str | None = None
    walked: int = 0

    @classmethod
    def parse(cls, cursor: str | None) -> WalkCursor:
        """The stored text back as a cursor; an unreadable one walks again from the newest."""
        if cursor is None or not cursor.startswith(RESUME_PREFIX):
            return cls(cursor)
        try:
            data = json.loads(cursor.removeprefix(RESUME_PREFIX))
            return cls(_str_or_none(data.get("watermark")), _str_or_none(data.get("pending")),
                       _str_or_none(data.get("next_token")), int(data.get("walked") or 0))
        except (ValueError, TypeError, AttributeError):
            log.warning("unreadable stored X cursor; walking again from the newest item")
            return cls(None)

    def encode(self) -> str:
        if self.watermark is not None and self.next_token is None and self.pending is None:
            return self.watermark
        data = {"watermark": self.watermark, "pending": self.pending,
                "next_token": self.next_token, "walked": self.walked}
        return RESUME_PREFIX + json.dumps(data, separators=(",", ":"))


class _StepKind(StrEnum):
    """What a walk does after a page."""

    NEXT = "next"
    END = "end"
    CAP = "cap"
    LOOP = "loop"


@dataclass
class _Walk:
    """One pass of a newest-first walk: the pages it asked for and the cursor each one stores."""

    start: WalkCursor
    max_requests: int
    token: str | None = None
    pending: str | None = None
    walked: int = 0
    requests: int = 0
    seen: set[str] = field(default_factory=set)

    @classmethod
    def begin(cls, cursor: str | None, max_requests: int) -> _Walk:
        """A walk that goes on from the stored resume point, or starts at the newest item."""
        start = WalkCursor.parse(cursor)
        return cls(start, max_requests, start.next_token, start.pending, start.walked,
                   seen={start.next_token} if start.next_token else set())

    @property
    def resuming(self) -> bool:
        """The next request follows a page token stored by an earlier pass."""
        return self.requests == 0 and self.token is not None

    def restart(self) -> None:
        """Walk again from the newest item, keeping the old watermark (X refused the token)."""
        self.token, self.pending, self.walked, self.seen = None, None, 0, set()

    def step(
        self, newest: str | None, count: int, next_token: str | None
    ) -> tuple[_StepKind, str | None]:
        """Count one page; return what the walk does next and the cursor to store with the page.

        The cursor of a page that is not the last keeps the old watermark and says where to
        resume; a repeated token stores the old watermark alone, so the next pass walks again.
        """
        self.requests += 1
        self.walked += count
        self.pending = _max_id([self.pending, newest])
        if next_token is None:
            return _StepKind.END, self._final_cursor()
        if next_token in self.seen:
            return _StepKind.LOOP, WalkCursor(self.start.watermark).encode()
        self.seen.add(next_token)
        self.token = next_token
        cursor = WalkCursor(self.start.watermark, self.pending, next_token, self.walked).encode()
        kind = _StepKind.CAP if self.requests >= self.max_requests else _StepKind.NEXT
        return kind, cursor

    def _final_cursor(self) -> str | None:
        finished = WalkCursor(_max_id([self.pending, self.start.watermark]))
        if finished.watermark is None and self.start == WalkCursor(None):
            return None
        return finished.encode()


class _XSender:
    """The write side of `XConnector`: replies, DMs, hides, and finding them again."""

    user_id: str
    client: Any
    redactor: Redactor
    account: AccountSettings
    now: Callable[[], datetime]
    _map_http_error: Callable[[tweepy.HTTPException, str], ConnectorError]

    def send(self, action: OutboundAction) -> SendReceipt:
        if action.kind is ActionKind.REPLY:
            return self._send_reply(action)
        if action.kind is ActionKind.DIRECT_MESSAGE:
            return self._send_dm(action)
        if action.kind in (ActionKind.HIDE, ActionKind.UNHIDE):
            return self._send_hide(action)
        raise FatalAPIError(
            "X has no private reply to a post; send a direct message to the author instead"
        )

    def _send_reply(self, action: OutboundAction) -> SendReceipt:
        """A reply; X's refusal of repeated text is checked against our own recent posts."""
        try:
            body = self._write(
                self.client.create_tweet, "reply", text=action.text,
                in_reply_to_tweet_id=action.target_id, user_auth=True,
            )
        except _Duplicate as duplicate:
            found = self.find_sent(action)
            if found is not None:
                return found
            raise FatalAPIError(str(duplicate)) from None
        tweet_id = _str_or_none(_data(body).get("id"))
        if tweet_id is None:
            raise SendOutcomeUnknown("X accepted the reply but answered without its id")
        return SendReceipt(tweet_id, Channel.MENTION, created_at=self.now(), raw=_data(body))

    def _send_dm(self, action: OutboundAction) -> SendReceipt:
        """To the participant when known (X's one-to-one endpoint), else to the conversation."""
        target = ({"participant_id": action.recipient_id} if action.recipient_id
                  else {"dm_conversation_id": action.thread_key})
        body = self._write(self.client.create_direct_message, "direct message",
                           text=action.text, user_auth=True, **target)
        data = _data(body)
        event_id = _str_or_none(data.get("dm_event_id"))
        if event_id is None:
            raise SendOutcomeUnknown("X accepted the direct message but answered without its id")
        thread = _str_or_none(data.get("dm_conversation_id")) or action.thread_key
        return SendReceipt(event_id, Channel.DM, thread, created_at=self.now(), raw=data)

    def _send_hide(self, action: OutboundAction) -> SendReceipt:
        method = (self.client.hide_reply if action.kind is ActionKind.HIDE
                  else self.client.unhide_reply)
        body = self._write(method, action.kind.value, id=action.target_id, user_auth=True)
        if _data(body).get("hidden") is not (action.kind is ActionKind.HIDE):
            raise SendOutcomeUnknown(f"X answered the {action.kind.value} without its new state")
        return SendReceipt(None, raw=_data(body))

    def find_sent(self, action: OutboundAction) -> SendReceipt | None:
        """Our reply among our recent posts, or our DM among the conversation's events."""
        if action.kind is ActionKind.REPLY:
            return self._find_reply(action)
        if action.kind is ActionKind.DIRECT_MESSAGE:
            return self._find_dm(action)
        raise ReconcileUnsupported(f"X cannot tell whether a {action.kind.value} happened")

    def _find_reply(self, action: OutboundAction) -> SendReceipt | None:
        body = self._read(
            self.client.get_users_tweets, "own posts", id=self.user_id, max_results=100,
            tweet_fields=["created_at", "conversation_id", "referenced_tweets"],
            start_time=_reconcile_start(action), user_auth=True,
        )
        for tweet in _data_list(body):
            if (isinstance(tweet, dict) and _replied_to(tweet) == action.target_id
                    and same_text(tweet.get("text"), action.text)):
                return SendReceipt(str(tweet["id"]), Channel.MENTION,
                                   created_at=parse_x_time(tweet.get("created_at")), raw=tweet)
        return None

    def _find_dm(self, action: OutboundAction) -> SendReceipt | None:
        where = ({"participant_id": action.recipient_id} if action.recipient_id
                 else {"dm_conversation_id": action.thread_key})
        body = self._read(
            self.client.get_direct_message_events, "direct messages",
            dm_event_fields=DM_EVENT_FIELDS, event_types=MESSAGE_CREATE, max_results=100,
            user_auth=True, **where,
        )
        start = _reconcile_start(action)
        for event in _data_list(body):
            if not isinstance(event, dict) or event.get("sender_id") != self.user_id:
                continue
            created = parse_x_time(event.get("created_at"))
            if same_text(event.get("text"), action.text) and (
                    start is None or created is None or created >= start):
                return SendReceipt(str(event["id"]), Channel.DM,
                                   _str_or_none(event.get("dm_conversation_id")),
                                   created_at=created, raw=event)
        return None

    def _write(self, method: Callable[..., Any], what: str, **params: Any) -> dict[str, Any]:
        """One attempt, no retry: a write retried after a timeout could post twice."""
        try:
            response = method(**params)
        except tweepy.TwitterServerError as exc:
            raise RetriableAPIError(f"X {what}: server error {_status(exc)}") from None
        except tweepy.Forbidden as exc:
            raise _forbidden(exc, what, self.redactor) from None
        except tweepy.HTTPException as exc:
            raise self._map_http_error(exc, what) from None
        except NETWORK_WRITE_ERRORS as exc:
            raise write_failure(exc, f"X {what}", self.redactor) from None
        try:
            body = response.json()
        except ValueError:
            raise SendOutcomeUnknown(f"X {what}: the answer is not JSON") from None
        return body if isinstance(body, dict) else {}

    def _read(self, method: Callable[..., Any], what: str, **params: Any) -> dict[str, Any]:
        try:
            response = method(**params)
            body = response.json()
        except tweepy.TwitterServerError as exc:
            raise RetriableAPIError(f"X {what}: server error {_status(exc)}") from None
        except tweepy.HTTPException as exc:
            raise self._map_http_error(exc, what) from None
        except (*NETWORK_WRITE_ERRORS, ValueError) as exc:
            raise RetriableAPIError(f"X {what}: {type(exc).__name__}") from None
        return body if isinstance(body, dict) else {}


NETWORK_WRITE_ERRORS: tuple[type[BaseException], ...] = (
    requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
)

RECONCILE_SLACK = timedelta(minutes=2)
"""Clocks differ: look a little before the moment the action was queued."""


class _Duplicate(FatalAPIError):
    """X refused a post whose text repeats one of the account's own posts."""


class _BadRequest(FatalAPIError):
    """X answered 400: a parameter it does not accept (in a walk, perhaps a stale page token)."""


FORBIDDEN_REASONS = (
    ("duplicate content", _Duplicate,
     "X refuses a post whose text repeats an earlier post of the account; reword the reply"),
    ("not been mentioned or otherwise engaged", FatalAPIError,
     "X lets this app reply only to posts that mention or quote the account "
     "(summoned-reply rule); answer the post that mentioned the brand, or send a DM"),
    ("cannot send messages to this user", FatalAPIError,
     "the customer does not accept direct messages from the account (their X settings); "
     "ask them in public to follow the account or to write first"),
    ("only hide or unhide replies to conversations you authored", FatalAPIError,
     "X lets the account hide only replies under its own posts"),
    ("deleted or not visible", FatalAPIError,
     "the post being answered is deleted or not visible to the account"),
    ("not a participant", FatalAPIError,
     "the account is not a participant of this direct-message conversation"),
)


def _forbidden(exc: tweepy.Forbidden, what: str, redactor: Redactor) -> FatalAPIError:
    """A 403 with the reason a person can act on, from the problem's `detail`."""
    detail = _problem_detail(exc)
    if _is_permission_problem(exc, detail):
        permission = DM_PERMISSION if "direct message" in what else WRITE_PERMISSION
        return FatalAPIError(
            PERMISSION_ADVICE.format(permission=permission, what=what) + f" (X 403 on {what})"
        )
    for fragment, error_type, reason in FORBIDDEN_REASONS:
        if fragment in detail.lower():
            return error_type(f"{reason} (X 403 on {what})")
    return FatalAPIError(f"X refused the {what} (403 {redactor.redact(detail)})".rstrip())


def _is_permission_problem(exc: tweepy.HTTPException, detail: str) -> bool:
    """X's `oauth1-permissions` problem (the app's permission is too low), by type or text;
    v1.1 said "not allowed to access or delete your direct messages" (code 93)."""
    try:
        body = exc.response.json()
    except ValueError:
        body = None
    kind = str(body.get("type", "")) if isinstance(body, dict) else ""
    text = detail.lower()
    return (kind.endswith("/oauth1-permissions") or "oauth1 app permissions" in text
            or "not allowed to access or delete your direct messages" in text)


def _problem_detail(exc: tweepy.HTTPException) -> str:
    """`detail` of a problem+json body, else its title or v1.1 message."""
    try:
        body = exc.response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return _problem_title(exc)


def same_text(found: Any, sent: str | None) -> bool:
    """Equal up to whitespace: the platform may trim or fold spaces."""
    return isinstance(found, str) and sent is not None and found.split() == sent.split()


def _reconcile_start(action: OutboundAction) -> datetime | None:
    return action.not_before - RECONCILE_SLACK if action.not_before else None


def _data(body: Mapping[str, Any]) -> dict[str, Any]:
    data = body.get("data")
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class _PayloadKind:
    """Where a tweet and a DM event keep the same facts under different names."""

    name: str
    channel: Channel
    author_field: str
    thread_field: str


_MENTION = _PayloadKind("mention", Channel.MENTION, "author_id", "conversation_id")
_DM = _PayloadKind("DM event", Channel.DM, "sender_id", "dm_conversation_id")
STREAM_KINDS = {"mentions": _MENTION, "dms": _DM}


class XConnector(_XSender, Connector):  # type: ignore[misc]
    """Pulls mentions and DM events of one X account through `tweepy.Client`; sends replies,
    DMs and hides (`_XSender`)."""

    platform = "x"
    streams = ("mentions", "dms")

    def __init__(
        self,
        account: AccountSettings,
        *,
        retry: RetryPolicy | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.account = account
        self.user_id = _required_user_id(account)
        secrets = _required_secrets(account)
        self.redactor = Redactor(account.secrets.values())
        self.retry = retry or RetryPolicy()
        self.now = now
        self.client = tweepy.Client(
            bearer_token=account.secrets.get("bearer_token"),
            consumer_key=secrets["consumer_key"],
            consumer_secret=secrets["consumer_secret"],
            access_token=secrets["access_token"],
            access_token_secret=secrets["access_token_secret"],
            return_type=requests.Response,
            wait_on_rate_limit=False,
        )
        mount_base_url(self.client.session, account.base_url, X_HOST_PREFIXES,
                       max_response_bytes(account.options))

    def pull(self, stream: str, cursor: str | None) -> Iterator[PullPage]:
        if stream == "mentions":
            return self._pull_mentions(cursor)
        if stream == "dms":
            return self._pull_dms(cursor)
        raise ConfigurationError(f"X has no stream {stream!r}; known: {', '.join(self.streams)}")

    # --- health (socialdesk doctor) -------------------------------------------------------

    def token_user_id(self) -> str | None:
        """The user id an OAuth 1.0a access token starts with ("123-abc"), read offline."""
        prefix, dash, _ = str(self.account.secrets.get("access_token", "")).partition("-")
        return prefix if dash and prefix.isdigit() else None

    def whoami(self) -> dict[str, str]:
        """`GET /2/users/me` in user context: one call that proves the four keys work.

        Returns: {"id", "username"} of the authenticated user, and "access_level": the app's
            permission from the `x-access-level` header ("" when X sent none).
        Raises: AuthExpired on 401, RateLimited on 429, FatalAPIError otherwise.
        """
        body, headers = self._call(self.client.get_me, "me", user_auth=True)
        user = body.get("data") if isinstance(body.get("data"), dict) else {}
        return {"id": str(user.get("id", "")), "username": str(user.get("username", "")),
                "access_level": str(headers.get(ACCESS_LEVEL_HEADER) or "")}

    # --- mentions ----------------------------------------------------------------------

    def _pull_mentions(self, cursor: str | None) -> Iterator[PullPage]:
        """Walk from the newest mention back to the watermark (`since_id`), or on from where
        the last walk stopped; `newest_id` of the walk's first page becomes the watermark
        with its last page.

        A walk cut short (page cap, rate limit, crash) keeps the old `since_id` and resumes
        from its stored `next_token`; the store's unique key absorbs any repeats.
        """
        walk = _Walk.begin(cursor, MENTIONS_MAX_REQUESTS)
        while True:
            body, headers = self._walk_call(
                walk,
                self.client.get_users_mentions,
                "mentions",
                id=self.user_id,
                since_id=walk.start.watermark,
                max_results=MENTIONS_PAGE_SIZE,
                tweet_fields=TWEET_FIELDS,
                expansions=["author_id"],
                user_fields=USER_FIELDS,
                user_auth=True,
            )
            if body is None:
                continue
            tweets = _data_list(body)
            items, quarantined = self._parse_mentions(tweets, _users_by_id(body))
            newest = _str_or_none(_meta(body).get("newest_id")) or _max_id(_ids(tweets))
            next_token = _str_or_none(_meta(body).get("next_token")) if tweets else None
            kind, page_cursor = walk.step(newest, len(tweets), next_token)
            warnings = []
            if kind == _StepKind.END and walk.walked >= MENTIONS_REACH:
                log.warning("account %s: %s", self.account.name, LOST_MENTIONS_WARNING)
                warnings.append(LOST_MENTIONS_WARNING)
            yield _walk_page("mentions", items, quarantined, headers, warnings, page_cursor)
            if self._walk_ends(walk, kind, "mentions"):
                return

    def _parse_mentions(
        self, tweets: list[Any], users: Mapping[str, Mapping[str, Any]]
    ) -> tuple[list[InboundItem], list[QuarantinedItem]]:
        return self._parse(tweets, users, _MENTION)

    # --- direct messages ---------------------------------------------------------------

    def _pull_dms(self, cursor: str | None) -> Iterator[PullPage]:
        """Page from the newest DM event (or from where the last walk stopped) until a known
        id or a page without `data`.

        DM lookup has no `since_id`, and `next_token` comes back even on a short last page,
        so only a known id or an empty page ends the walk.
        """
        walk = _Walk.begin(cursor, DM_MAX_REQUESTS)
        while True:
            body, headers = self._walk_call(
                walk,
                self.client.get_direct_message_events,
                "direct messages",
                dm_event_fields=DM_EVENT_FIELDS,
                event_types=MESSAGE_CREATE,
                expansions=["sender_id"],
                user_fields=USER_FIELDS,
                max_results=DM_PAGE_SIZE,
            )
            if body is None:
                continue
            events = _data_list(body)
            new_events = _events_newer_than(events, walk.start.watermark)
            items, quarantined = self._parse_dms(new_events, _users_by_id(body))
            reached_known = len(new_events) < len(events)
            next_token = (None if reached_known or not events
                          else _str_or_none(_meta(body).get("next_token")))
            kind, page_cursor = walk.step(_max_id(_ids(new_events)), len(new_events), next_token)
            yield _walk_page("dms", items, quarantined, headers, [], page_cursor)
            if self._walk_ends(walk, kind, "direct messages"):
                return

    def _walk_call(
        self, walk: _Walk, method: Callable[..., Any], what: str, **params: Any
    ) -> tuple[dict[str, Any] | None, Mapping[str, str]]:
        """One page of `walk`; (None, {}) when X refused a stored resume token, after which
        the walk starts again from the newest item (the token may have expired)."""
        resuming = walk.resuming
        try:
            return self._call(method, what, pagination_token=walk.token, **params)
        except _BadRequest:
            if not resuming:
                raise
        log.warning("account %s: X refused the stored %s page token; walking again from the "
                    "newest item", self.account.name, what)
        walk.restart()
        return None, {}

    def _walk_ends(self, walk: _Walk, kind: _StepKind, what: str) -> bool:
        """After a page is yielded: True at the walk's end; raise when it stops early."""
        if kind == _StepKind.LOOP:
            message = (f"X {what}: the next page token repeated after {walk.requests} pages "
                       "(a pagination loop); stopped without moving the watermark, the next "
                       "pass walks again from the newest item")
            log.warning("account %s: %s", self.account.name, message)
            raise PaginationLoop(message)
        if kind == _StepKind.CAP:
            raise WalkIncomplete(f"X {what}: stopped after {walk.requests} pages to stay within "
                                 f"X's rate limit; {RESUMES}")
        return kind == _StepKind.END

    def _parse_dms(
        self, events: list[Any], users: Mapping[str, Mapping[str, Any]]
    ) -> tuple[list[InboundItem], list[QuarantinedItem]]:
        """Only MessageCreate events are messages; joins and leaves carry no text."""
        messages = [
            event for event in events
            if not isinstance(event, dict) or event.get("event_type") in (MESSAGE_CREATE, None)
        ]
        return self._parse(messages, users, _DM)

    def _parse(
        self, payloads: list[Any], users: Mapping[str, Mapping[str, Any]], kind: _PayloadKind
    ) -> tuple[list[InboundItem], list[QuarantinedItem]]:
        items: list[InboundItem] = []
        quarantined: list[QuarantinedItem] = []
        for payload in payloads:
            parsed = self._item(payload, users, kind)
            if isinstance(parsed, InboundItem):
                items.append(parsed)
            else:
                quarantined.append(parsed)
        return items, quarantined

    def _item(
        self, payload: Any, users: Mapping[str, Mapping[str, Any]], kind: _PayloadKind
    ) -> InboundItem | QuarantinedItem:
        """One tweet or DM event as an item; without id, text or a readable `created_at`, or
        with a field of the wrong type, it is quarantined with its author from the page's
        `includes.users`, so `reparse` can read it alone later. The account's own posts
        and messages are outbound echoes."""
        kept = _kept(payload, users, kind)
        if not isinstance(payload, dict):
            return QuarantinedItem(reason=f"{kind.name} is not an object", raw=kept)
        try:
            item_id = platform_id(payload.get("id"), "id")
            author_id = platform_id(payload.get(kind.author_field), kind.author_field)
            thread_key = platform_id(payload.get(kind.thread_field), kind.thread_field)
            text = optional_text(payload.get("text"), "text")
        except WrongType as wrong:
            return QuarantinedItem(reason=f"{kind.name} {wrong}", raw=kept,
                                   external_id=_str_or_none(payload.get("id")))
        problem = _missing_parts(item_id, text, payload.get("created_at"))
        if problem:
            return QuarantinedItem(reason=f"{kind.name} {problem}", raw=kept,
                                   external_id=item_id)
        assert item_id is not None and text is not None
        author = users.get(author_id or "", {})
        return InboundItem(
            platform=self.platform,
            external_id=item_id,
            channel=kind.channel,
            direction=self._direction(author_id),
            thread_key=thread_key or item_id,
            text=text,
            created_at=parse_x_time(payload["created_at"]),  # type: ignore[arg-type]
            author_id=author_id,
            author_handle=_str_or_none(author.get("username")),
            author_name=_str_or_none(author.get("name")),
            parent_external_id=_replied_to(payload) if kind.channel is Channel.MENTION else None,
            raw=payload,
        )

    def reparse(
        self, stream: str, raw: Mapping[str, Any]
    ) -> InboundItem | QuarantinedItem | None:
        """A quarantined tweet or DM event read again with today's parser (no API call).

        `raw` is `{"data": <tweet or event>, "includes": {"users": [<its author>]}}`; rows
        kept before authors were stored are the bare object, read without a name.
        """
        kind = STREAM_KINDS.get(stream)
        if kind is None:
            return QuarantinedItem(reason=f"X has no stream {stream!r}", raw=raw)
        if set(raw) <= {"data", "includes"} and "data" in raw:
            return self._item(raw["data"], _users_by_id(raw), kind)
        return self._item(dict(raw), {}, kind)

    def _direction(self, author_id: str | None) -> Direction:
        return Direction.OUTBOUND if author_id == self.user_id else Direction.INBOUND

    # --- calls and errors --------------------------------------------------------------

    def _call(
        self, method: Callable[..., Any], what: str, **params: Any
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """Call a tweepy method with retries; return the JSON body and the response headers."""

        def attempt() -> tuple[dict[str, Any], Mapping[str, str]]:
            try:
                response = method(**params)
            except tweepy.TwitterServerError as exc:
                raise TransientFailure(
                    RetriableAPIError(f"X {what}: server error {_status(exc)}, retries exhausted")
                ) from None
            return _decode(response, what), response.headers

        try:
            return self.retry.run(attempt, f"X {what}", self.redactor)
        except tweepy.HTTPException as exc:
            raise self._map_http_error(exc, what) from None

    def _map_http_error(self, exc: tweepy.HTTPException, what: str) -> ConnectorError:
        """Map by exception class (status), never by `api_codes`: problem+json 429s have none."""
        status = _status(exc)
        detail = self.redactor.redact(_problem_title(exc))
        if isinstance(exc, tweepy.TooManyRequests):
            reset_at = self._reset_at(exc)
            return RateLimited(
                f"X rate limit reached for {what}; next poll after {reset_at.isoformat()}",
                reset_at=reset_at,
            )
        if isinstance(exc, tweepy.Unauthorized):
            return AuthExpired(self._auth_advice(what))
        if isinstance(exc, tweepy.Forbidden):
            return _forbidden(exc, what, self.redactor)
        if isinstance(exc, tweepy.BadRequest):
            return _BadRequest(f"X refused the {what} request ({status} {detail})".rstrip())
        return FatalAPIError(f"X refused the {what} request ({status} {detail})".rstrip())

    def _reset_at(self, exc: tweepy.TooManyRequests) -> datetime:
        """A daily cap at 0 wins; then tweepy's `reset_time`, the header, or 15 minutes."""
        headers = exc.response.headers
        daily = x_daily_exhausted_reset(headers)
        if daily is not None:
            return daily
        window = epoch_to_utc(exc.reset_time) or epoch_to_utc(
            header_int(headers, "x-rate-limit-reset")
        )
        return window or self.now() + RATE_LIMIT_FALLBACK

    def _auth_advice(self, what: str) -> str:
        names = [
            str(self.account.options.get(f"{key}_env") or f"the variable named by {key}_env")
            for key in ("access_token", "access_token_secret")
        ]
        return (
            f"X rejected the credentials of account {self.account.name!r} ({what}, 401): "
            "regenerate the access token and secret in the X developer portal "
            f"(Keys and tokens), then update {names[0]} and {names[1]}"
        )


# --- parsing helpers --------------------------------------------------------------------


def parse_x_time(value: Any) -> datetime | None:
    """X's `2022-10-07T22:43:18.000Z` as aware UTC, or None when unreadable."""
    return aware_time(value)


def _walk_page(
    stream: str,
    items: list[InboundItem],
    quarantined: list[QuarantinedItem],
    headers: Mapping[str, str],
    warnings: list[str],
    cursor: str | None,
) -> PullPage:
    """One page of a newest-first walk: only its last page carries the new cursor."""
    return PullPage(stream=stream, items=items, quarantined=quarantined, cursor=cursor,
                    rate_limit=x_rate_limit(headers), warnings=warnings)


def _kept(payload: Any, users: Mapping[str, Mapping[str, Any]], kind: _PayloadKind
          ) -> dict[str, Any]:
    """What a quarantined object needs to be read alone: itself, in a one-item page with its
    author (X names authors only in the page's `includes.users`)."""
    author_key = payload.get(kind.author_field) if isinstance(payload, dict) else None
    author = users.get(str(author_key)) if author_key is not None else None
    kept: dict[str, Any] = {"data": payload}
    if author is not None:
        kept["includes"] = {"users": [dict(author)]}
    return kept


def _missing_parts(item_id: str | None, text: str | None, created_at: Any) -> str | None:
    """Why an X object cannot become an item, or None when it can."""
    if not item_id:
        return "without id"
    if text is None:
        return "without text"
    if parse_x_time(created_at) is None:
        return "with missing or unparseable created_at"
    return None


def _decode(response: requests.Response, what: str) -> dict[str, Any]:
    """The JSON object of a 200; a truncated body is retried, then reported as malformed."""
    try:
        body = response.json()
    except ValueError:
        raise TransientFailure(
            MalformedPayload(f"X {what}: the response body is not valid JSON")
        ) from None
    if not isinstance(body, dict):
        raise TransientFailure(MalformedPayload(f"X {what}: the response body is not an object"))
    return body


def _data_list(body: Mapping[str, Any]) -> list[Any]:
    """`data` of a page; an empty page has no `data` key at all."""
    data = body.get("data")
    return data if isinstance(data, list) else []


def _meta(body: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = body.get("meta")
    return meta if isinstance(meta, dict) else {}


def _users_by_id(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """`includes.users` keyed by id; authors missing here are unknown, not an error."""
    includes = body.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    if not isinstance(users, list):
        return {}
    return {str(user["id"]): user for user in users if isinstance(user, dict) and "id" in user}


def _replied_to(tweet: Mapping[str, Any]) -> str | None:
    references = tweet.get("referenced_tweets")
    if not isinstance(references, list):
        return None
    for reference in references:
        if isinstance(reference, dict) and reference.get("type") == "replied_to":
            return _str_or_none(reference.get("id"))
    return None


def _events_newer_than(events: list[Any], cursor: str | None) -> list[Any]:
    """The events before the first known one; the list is newest first."""
    if cursor is None:
        return events
    newer: list[Any] = []
    for event in events:
        event_id = _str_or_none(event.get("id")) if isinstance(event, dict) else None
        if event_id is not None and _id_at_or_before(event_id, cursor):
            break
        newer.append(event)
    return newer


def _id_at_or_before(event_id: str, known_id: str) -> bool:
    """Ids are snowflakes: compare as integers when both are digits, else only equality counts."""
    if event_id.isdigit() and known_id.isdigit():
        return int(event_id) <= int(known_id)
    return event_id == known_id


def _ids(objects: list[Any]) -> list[str | None]:
    return [_str_or_none(o.get("id")) if isinstance(o, dict) else None for o in objects]


def _max_id(ids: list[str | None]) -> str | None:
    """The newest of some ids: numeric order for snowflakes, else the first one present."""
    present = [i for i in ids if i]
    if not present:
        return None
    if all(i.isdigit() for i in present):
        return max(present, key=int)
    return present[0]


def _str_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    return str(value)


def _status(exc: tweepy.HTTPException) -> int | None:
    return getattr(exc.response, "status_code", None)


def _problem_title(exc: tweepy.HTTPException) -> str:
    """`title` of a problem+json body, or the v1.1 `errors[0].message`; never the request."""
    try:
        body = exc.response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("title"), str):
        return str(body["title"])
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", ""))
    return ""


def _required_user_id(account: AccountSettings) -> str:
    user_id = account.options.get("user_id")
    if not user_id:
        raise ConfigurationError(f"account {account.name!r}: X needs user_id")
    return str(user_id)


def _required_secrets(account: AccountSettings) -> dict[str, str]:
    """The four OAuth 1.0a values; no bearer token is needed, every call is user context."""
    missing = [key for key in SECRET_KEYS if not account.secrets.get(key)]
    if missing:
        names = ", ".join(f"{key}_env" for key in missing)
        raise ConfigurationError(
            f"account {account.name!r}: X needs the variables named by {names} to be set"
        )
    return {key: account.secrets[key] for key in SECRET_KEYS}
