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
    """A payload that could not be parsed; kept with its raw body, never stops a sync."""

    reason: str
    raw: Mapping[str, Any]
    external_id: str | None = None


@dataclass(frozen=True)
class RateLimitStatus:
    """What the last response said about the stream's budget (all optional)."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None


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


class MalformedPayload(ConnectorError):
    """A response body that is not what the platform documents."""


def utc_now() -> datetime:
    return datetime.now(UTC)
