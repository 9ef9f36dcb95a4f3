"""The X (Twitter API v2) connector: mentions and direct messages, through tweepy.

Reads only what is new, because every X read is billed; the walks and their stored
cursors are in `x_walk`, the payloads read into items in `x_parse`, the sends in
`x_send` and the mapping of X's refusals in `x_errors`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import requests
import tweepy  # type: ignore[import-untyped]

from connectors import x_dm_pages
from connectors._http import (
    Redactor,
    RetryPolicy,
    TransientFailure,
    max_response_bytes,
    mount_base_url,
)
from connectors._payload import data_list, str_or_none
from connectors.base import (
    AccountSettings,
    ConfigurationError,
    Connector,
    InboundItem,
    PaginationLoop,
    PullPage,
    QuarantinedItem,
    RetriableAPIError,
    WalkIncomplete,
    utc_now,
)
from connectors.x_errors import BadRequest, XErrors, decode_body, status_of
from connectors.x_parse import (
    DM_EVENT_FIELDS,
    MESSAGE_CREATE,
    PLATFORM,
    TWEET_FIELDS,
    USER_FIELDS,
    XPayloadParser,
    page_meta,
    users_by_id,
)
from connectors.x_send import XSender
from connectors.x_walk import Walk, WalkStep, events_newer_than, ids_of, max_id, walk_page

log = logging.getLogger(__name__)

X_HOST_PREFIXES = ("https://api.twitter.com", "https://api.x.com")
"""tweepy calls api.twitter.com; X's docs name api.x.com. Both get the adapter."""

MENTIONS_REACH = 800
"""Only the 800 most recent mentions are reachable; older ones are lost to polling."""

MENTIONS_PAGE_SIZE = 100
"""The largest `max_results` the mentions timeline accepts."""

MENTIONS_MAX_REQUESTS = MENTIONS_REACH // MENTIONS_PAGE_SIZE
"""A walk needs no more requests than the reach: 8 pages of 100."""

DM_MAX_REQUESTS = 10
"""DM lookup allows 15 requests per 15 min per user: a pass stops after 10 and leaves the
rest of the window to the outbox's look-ups; the next pass resumes where it stopped."""

SECRET_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
"""OAuth 1.0a user context: mentions bill as owned reads and DM endpoints refuse app-only auth."""

OPTIONAL_SECRET_KEYS = ("bearer_token",)

LOST_MENTIONS_WARNING = (
    f"mentions may be lost: this poll reached X's {MENTIONS_REACH}-mention reach; "
    "poll more often"
)
RESUMES = "the next pass resumes where this one stopped"

ACCESS_LEVEL_HEADER = "x-access-level"
"""The app's permission on user-context answers: `read`, `read-write`,
`read-write-directmessages`."""


class XConnector(XSender, Connector):
    """Pulls mentions and DM events of one X account through `tweepy.Client`; sends replies,
    DMs and hides (`XSender`)."""

    platform = PLATFORM
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
        self.errors = XErrors(account, self.redactor, now)
        self.retry = retry or RetryPolicy()
        self.now = now
        self._parser = XPayloadParser(self.user_id)
        self.adaptive = bool(account.options.get("adaptive_polling", True))
        """Size DM pages to what the stream has been receiving (`x_dm_pages`)."""
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
        data = body.get("data")
        user: Mapping[str, Any] = data if isinstance(data, dict) else {}
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
        walk = Walk.begin(cursor, MENTIONS_MAX_REQUESTS)
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
            tweets = data_list(body)
            items, quarantined = self._parser.mentions(tweets, users_by_id(body))
            newest = str_or_none(page_meta(body).get("newest_id")) or max_id(ids_of(tweets))
            next_token = str_or_none(page_meta(body).get("next_token")) if tweets else None
            kind, page_cursor = walk.step(newest, len(tweets), next_token)
            warnings = []
            if kind == WalkStep.END and walk.walked >= MENTIONS_REACH:
                log.warning("account %s: %s", self.account.name, LOST_MENTIONS_WARNING)
                warnings.append(LOST_MENTIONS_WARNING)
            yield walk_page("mentions", items, quarantined, headers, warnings, page_cursor)
            if self._walk_ends(walk, kind, "mentions"):
                return

    # --- direct messages ---------------------------------------------------------------

    def _pull_dms(self, cursor: str | None) -> Iterator[PullPage]:
        """Page from the newest DM event (or from where the last walk stopped) until a known
        id or a page without `data`.

        DM lookup has no `since_id`, and `next_token` comes back even on a short last page,
        so only a known id or an empty page ends the walk. Every event returned is billed,
        so the pages are as small as what the stream has been receiving (`x_dm_pages`).
        """
        walk = Walk.begin(cursor, DM_MAX_REQUESTS)
        began = self.now()
        walk.polled_at = int(began.timestamp())
        size = x_dm_pages.first_page(walk.start, self.adaptive, began)
        while True:
            body, headers = self._walk_call(
                walk,
                self.client.get_direct_message_events,
                "direct messages",
                dm_event_fields=DM_EVENT_FIELDS,
                event_types=MESSAGE_CREATE,
                expansions=["sender_id"],
                user_fields=USER_FIELDS,
                max_results=size,
            )
            if body is None:
                size = x_dm_pages.DM_PAGE_SIZE  # walking again from the newest: a backlog
                continue
            events = data_list(body)
            new_events = events_newer_than(events, walk.start.watermark)
            walk.recent = x_dm_pages.recent_after(walk.start, walk.walked + len(new_events),
                                                  self.adaptive, began)
            items, quarantined = self._parser.dm_events(new_events, users_by_id(body))
            reached_known = len(new_events) < len(events)
            next_token = (None if reached_known or not events
                          else str_or_none(page_meta(body).get("next_token")))
            kind, page_cursor = walk.step(max_id(ids_of(new_events)), len(new_events), next_token)
            size = x_dm_pages.next_page(size, len(new_events), self.adaptive,
                                        first=walk.requests == 1)
            yield walk_page("dms", items, quarantined, headers, [], page_cursor)
            if self._walk_ends(walk, kind, "direct messages"):
                return

    def _walk_call(
        self, walk: Walk, method: Callable[..., Any], what: str, **params: Any
    ) -> tuple[dict[str, Any] | None, Mapping[str, str]]:
        """One page of `walk`; (None, {}) when X refused a stored resume token, after which
        the walk starts again from the newest item (the token may have expired)."""
        resuming = walk.resuming
        try:
            return self._call(method, what, pagination_token=walk.token, **params)
        except BadRequest:
            if not resuming:
                raise
        log.warning("account %s: X refused the stored %s page token; walking again from the "
                    "newest item", self.account.name, what)
        walk.restart()
        return None, {}

    def _walk_ends(self, walk: Walk, kind: WalkStep, what: str) -> bool:
        """After a page is yielded: True at the walk's end; raise when it stops early."""
        if kind == WalkStep.LOOP:
            message = (f"X {what}: the next page token repeated after {walk.requests} pages "
                       "(a pagination loop); stopped without moving the watermark, the next "
                       "pass walks again from the newest item")
            log.warning("account %s: %s", self.account.name, message)
            raise PaginationLoop(message)
        if kind == WalkStep.CAP:
            raise WalkIncomplete(f"X {what}: stopped after {walk.requests} pages to stay within "
                                 f"X's rate limit; {RESUMES}")
        return kind == WalkStep.END


    def reparse(
        self, stream: str, raw: Mapping[str, Any]
    ) -> InboundItem | QuarantinedItem | None:
        """A quarantined tweet or DM event read again with today's parser (no API call)."""
        return self._parser.reparse(stream, raw)

    # --- calls -------------------------------------------------------------------------

    def _call(
        self, method: Callable[..., Any], what: str, **params: Any
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """Call a tweepy method with retries; return the JSON body and the response headers."""

        def attempt() -> tuple[dict[str, Any], Mapping[str, str]]:
            try:
                response = method(**params)
            except tweepy.TwitterServerError as exc:
                raise TransientFailure(
                    RetriableAPIError(f"X {what}: server error {status_of(exc)}, retries exhausted")
                ) from None
            return decode_body(response, what), response.headers

        try:
            return self.retry.run(attempt, f"X {what}", self.redactor)
        except tweepy.HTTPException as exc:
            raise self.errors.from_http(exc, what) from None


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
