"""The contract between socialdesk and a platform connector.

A connector knows one platform's API and nothing of socialdesk's database: it turns API
pages into normalised `InboundItem`s plus the cursor that covers them, and (later)
outbound actions into API calls. Everything here is plain data, so the core can store
it and tests can compare it.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar


class Channel(StrEnum):
    """Where a message was written; decides threading, visibility and how to answer."""

    MENTION = "mention"
    DM = "dm"
    COMMENT = "comment"
    VISITOR_POST = "visitor_post"
    MESSENGER = "messenger"

    @property
    def visibility(self) -> Visibility:
        return Visibility.PRIVATE if self in (Channel.DM, Channel.MESSENGER) else Visibility.PUBLIC


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


@dataclass(frozen=True)
class AccountSettings:
    """What a connector needs to reach one account: no database, no config file.

    `secrets` holds the resolved values of the token environment variables, keyed by the
    config key that named them (`bearer_token_env` -> key `bearer_token`).
    `options` holds the platform-specific plain keys (`user_id`, `page_id`, `graph_version`).
    """

    name: str
    platform: str
    base_url: str | None
    secrets: Mapping[str, str]
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundItem:
    """One message as the platform gave it, normalised.

    `thread_key` is the platform's id for the conversation this message belongs to (X
    `conversation_id` or `dm_conversation_id`, the top-level Facebook comment or visitor
    post id, the Messenger conversation id). `parent_external_id` is the message it
    answers, when the platform says so; the core threads on it first.
    `direction` is OUTBOUND for the account's own posts and messages (echoes).
    """

    platform: str
    external_id: str
    channel: Channel
    direction: Direction
    thread_key: str
    text: str
    created_at: datetime
    author_id: str | None
    author_handle: str | None = None
    author_name: str | None = None
    parent_external_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")

    @property
    def visibility(self) -> Visibility:
        return self.channel.visibility


@dataclass(frozen=True)
class QuarantinedItem:
    """A payload that could not be parsed; kept with its raw body, never stops a sync.

    `raw` is what `Connector.reparse` needs to read the item again later (after an upgrade
    of the connector): the platform's object, and whatever context of its page the
    connector needs beside it (the author of an X post, the post a comment is under).
    """

    reason: str
    raw: Mapping[str, Any]
    external_id: str | None = None


@dataclass(frozen=True)
class RateLimitStatus:
    """What the last response said about the stream's budget (all optional).

    `percent` is True when `limit` and `remaining` are percentages of a quota that the app
    or Page shares across streams (Graph's usage headers), not request counts of this
    stream's endpoint. `windows` holds every window the headers named when there are
    several (X: the 15-minute one and the 24-hour caps); the fields above are the one with
    the fewest requests left.
    """

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    percent: bool = False
    windows: tuple[RateLimitStatus, ...] = ()


@dataclass(frozen=True)
class PullPage:
    """One page of a pull, to be stored in one transaction.

    `cursor` is the value to store for the stream *with this page's items*: None keeps
    the stored cursor (an intermediate page of a walk that may not advance it yet).
    """

    stream: str
    items: list[InboundItem]
    quarantined: list[QuarantinedItem] = field(default_factory=list)
    cursor: str | None = None
    rate_limit: RateLimitStatus | None = None
    warnings: list[str] = field(default_factory=list)


class ActionKind(StrEnum):
    """What an outgoing action does on the platform."""

    REPLY = "reply"
    """A public answer under a post or comment (X reply, Facebook comment reply)."""
    DIRECT_MESSAGE = "direct_message"
    """A private message to a person (X DM, Messenger message)."""
    PRIVATE_REPLY = "private_reply"
    """Facebook only: the one Messenger message a Page may send about a comment or visitor post."""
    HIDE = "hide"
    UNHIDE = "unhide"

    @property
    def visibility(self) -> Visibility | None:
        """Where the text is seen; None for hides, which carry no text."""
        if self is ActionKind.REPLY:
            return Visibility.PUBLIC
        if self in (ActionKind.DIRECT_MESSAGE, ActionKind.PRIVATE_REPLY):
            return Visibility.PRIVATE
        return None

    @property
    def idempotent(self) -> bool:
        """Doing it twice has the effect of doing it once: safe to resend after a doubt."""
        return self in (ActionKind.HIDE, ActionKind.UNHIDE)


@dataclass(frozen=True)
class OutboundAction:
    """One thing to do on the platform, in its terms; built by the outbox from its row.

    `target_id` is the platform id of the post, comment or tweet answered or hidden, and
    `target_channel` its channel (a private reply goes to `comment_id` or `post_id`).
    `recipient_id` is the person of a direct message (X participant id, Messenger PSID);
    `thread_key` the conversation it belongs to when known (X `dm_conversation_id`,
    Messenger conversation id, the top-level comment of a Facebook thread).
    `messaging_type` and `tag` are Messenger's (`RESPONSE`, or `MESSAGE_TAG` + `HUMAN_AGENT`).
    `not_before` is when the action was queued: reconciliation ignores older items.
    """

    kind: ActionKind
    target_id: str | None = None
    target_channel: Channel | None = None
    text: str | None = None
    recipient_id: str | None = None
    thread_key: str | None = None
    messaging_type: str | None = None
    tag: str | None = None
    not_before: datetime | None = None


@dataclass(frozen=True)
class SendReceipt:
    """What the platform says it did: the new message's id and where it lives.

    `external_id` is None for hides. `thread_key` and `channel` name the conversation the
    new message will come back in on the next pull, when the platform says so.
    """

    external_id: str | None
    channel: Channel | None = None
    thread_key: str | None = None
    created_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


REPARSE_UNSUPPORTED = "this connector cannot re-read stored payloads"


class Connector(abc.ABC):
    """A platform connector, registered under the entry-point group `socialdesk.connectors`."""

    platform: ClassVar[str]
    """The config value of `accounts[].platform` this connector serves."""

    streams: ClassVar[tuple[str, ...]]
    """The independent feeds the connector pulls, each with its own cursor."""

    @abc.abstractmethod
    def __init__(self, account: AccountSettings) -> None:
        """Build the API client. Raises `ConfigurationError` if a needed option is missing."""

    @abc.abstractmethod
    def pull(self, stream: str, cursor: str | None) -> Iterator[PullPage]:
        """Yield the pages of everything new in `stream` since `cursor`.

        Args:
            stream: one of `streams`.
            cursor: the cursor stored after the last completed pull, or None the first time.

        Yields:
            pages in the order they must be stored; the last page carries the new cursor.

        Raises:
            RateLimited: the stream must not be polled before `reset_at`.
            AuthExpired: the token is invalid or expired; a human must reconnect.
            RetriableAPIError: the API failed transiently after the connector's own retries.
            FatalAPIError: the API refused the request (permissions, bad id).
        """

    def reparse(
        self, stream: str, raw: Mapping[str, Any]  # noqa: ARG002  (read by the overrides)
    ) -> InboundItem | QuarantinedItem | None:
        """Read again a payload this connector set aside (`QuarantinedItem.raw`), offline.

        The core calls it on every pass for the items still waiting, so an item a newer
        connector can read arrives without being fetched again. No API call is made.

        Args:
            stream: the stream the payload came from.
            raw: the `QuarantinedItem.raw` stored with it.

        Returns:
            the item; or the payload still quarantined with today's reason; or None when
            the payload turns out to be no message (nothing to store, nothing waiting).
        """
        return QuarantinedItem(reason=REPARSE_UNSUPPORTED, raw=raw)

    def send(self, action: OutboundAction) -> SendReceipt:
        """Perform `action` once. Never retries a write whose request may have arrived.

        Args:
            action: what to do; its text already passed the channel rules.

        Returns:
            the platform's receipt (the new message's id, None for hides).

        Raises:
            RateLimited: nothing was done; try again after `reset_at`.
            AuthExpired: nothing was done; a human must reconnect the account.
            RetriableAPIError: the platform answered that nothing was done (5xx, refused
                connection); sending again is safe.
            SendOutcomeUnknown: the request may have been performed (timeout, dropped
                connection, a success without an id); reconcile, never resend blindly.
            FatalAPIError: the platform refused the action; the message says why.
        """
        raise FatalAPIError(f"the {self.platform} connector cannot send {action.kind.value}")

    def find_sent(self, action: OutboundAction) -> SendReceipt | None:
        """Look on the platform for the effect of `action`, after a doubtful send.

        Returns:
            the receipt of the matching item (same text, by the account, after
            `action.not_before`), or None when the recent items show no such message.

        Raises:
            ReconcileUnsupported: the API offers no way to tell for this kind of action.
            RateLimited, AuthExpired, RetriableAPIError, FatalAPIError: the read failed.
        """
        raise ReconcileUnsupported(
            f"the {self.platform} connector cannot check {action.kind.value} actions"
        )


class ConnectorError(Exception):
    """Base of every error a connector raises; the message never carries tokens."""


class ConfigurationError(ConnectorError):
    """The account settings lack something the connector needs."""


class RateLimited(ConnectorError):
    """The platform asked us to stop until `reset_at` (aware UTC)."""

    def __init__(self, message: str, reset_at: datetime) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class AuthExpired(ConnectorError):
    """The token is expired, revoked or wrong; polling again will not help."""


class RetriableAPIError(ConnectorError):
    """A timeout, connection error or 5xx that outlived the connector's retries."""


class FatalAPIError(ConnectorError):
    """The API refused the request for a reason retrying will not fix."""


class SendOutcomeUnknown(ConnectorError):
    """A write whose request may have reached the platform, with no answer saying so.

    The action may or may not have happened: look for it (`find_sent`), never resend it
    blindly.
    """


class ReconcileUnsupported(ConnectorError):
    """The platform's API cannot tell whether an action happened; a human must look."""


class MalformedPayload(ConnectorError):
    """A response body that is not what the platform documents."""


class WalkIncomplete(ConnectorError):
    """The walk stopped before its end (its page cap) after yielding pages whose cursor says
    where to resume; the stream's watermark has not moved, so the next pull goes on from there.
    """


class PaginationLoop(ConnectorError):
    """The platform handed back a page token or cursor the walk already followed.

    The walk stops and the stream's watermark stays where it was: following the loop would
    never end, and moving the watermark would skip what the loop hid.
    """


def utc_now() -> datetime:
    return datetime.now(UTC)
