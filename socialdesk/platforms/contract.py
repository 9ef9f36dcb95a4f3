"""What a platform means to the desk: the contract each platform module fulfils.

A platform module (registered under the `socialdesk.platforms` entry points, beside its
connector under `socialdesk.connectors`) says which channels it has and how they are
called, how long a text may be, which private channel reaches a customer who wrote in
public, and what the privacy guard does when a public message shows personal data. The
core asks `platforms.registry` and never names a platform.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from connectors.base import ActionKind, Channel
from socialdesk.config import AccountConfig
from socialdesk.platforms.channel_rules import ChannelRuleError
from socialdesk.platforms.checks import Check


class Purpose(StrEnum):
    """Why the guard plans an action; kept with the outbox row and in the audit log."""

    HIDE = "hide"
    PRIVATE_MESSAGE = "private_message"
    PUBLIC_POINTER = "public_pointer"


@dataclass(frozen=True)
class PublicPost:
    """What the guard needs to know of a new inbound public message."""

    platform: str
    channel: str
    visibility: str
    external_id: str
    text: str
    created_at: datetime
    author_id: str | None = None
    author_handle: str | None = None
    author_name: str | None = None


@dataclass(frozen=True)
class PlannedAction:
    """One step of a redirect: an outbox action, in outbox terms, with its reason."""

    purpose: Purpose
    kind: ActionKind
    target_external_id: str | None = None
    target_channel: Channel | None = None
    recipient_id: str | None = None
    text: str | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    """Platform send options, e.g. the public message's time for a private reply."""


@dataclass(frozen=True)
class RedirectTexts:
    """What the guard says, in one language."""

    language: str
    private_message: str
    public_pointer: str
    public_pointer_with_link: str | None
    """The pointer used when the private message could not be sent: it carries the link
    that opens the private channel (platforms whose `dm_link` gives one)."""


@dataclass(frozen=True)
class RedirectSteps:
    """A platform's redirect for one post: the steps in order, the pointer that replaces
    the planned one when the private message is refused, and why a step is missing."""

    actions: tuple[PlannedAction, ...]
    pointer_if_private_refused: PlannedAction | None = None
    notes: tuple[str, ...] = ()


class Platform(abc.ABC):
    """One platform's rules; a module-level instance is what its entry point names."""

    name: ClassVar[str]
    """The `platform` value of accounts, stored rows and the connector's entry point."""
    display_name: ClassVar[str]
    """How the desk names the platform to an operator (the customer card)."""
    account_model: ClassVar[type[AccountConfig]]
    """The `[[accounts]]` model of this platform, with its own keys and validation."""
    channel_labels: ClassVar[Mapping[Channel, str]]
    """The platform's channels, in the order the queue's filter cycles through them, with
    the short label the lists show ("X mention")."""
    private_channel: ClassVar[Channel]
    """Where a customer who wrote in public is answered privately."""
    private_channel_label: ClassVar[str]
    """The private channel as the composer names it."""
    messages_first: ClassVar[bool] = False
    """True when the desk may open a private conversation itself, at any time (a DM to the
    customer's handle); False when it may only answer inside the platform's windows."""

    @property
    def channels(self) -> tuple[Channel, ...]:
        return tuple(self.channel_labels)

    def channel_label(self, channel: str) -> str:
        """The short label of `channel`, e.g. "FB comment"."""
        try:
            return self.channel_labels[Channel(channel)]
        except (ValueError, KeyError):
            return f"{self.name} {channel}"

    # --- texts ----------------------------------------------------------------------------

    @abc.abstractmethod
    def text_limit(self, kind: ActionKind) -> int:
        """The longest text the platform accepts for an action of `kind`."""

    def text_length(self, kind: ActionKind, text: str) -> int:  # noqa: ARG002
        """The length the platform counts; plain characters unless it weighs them."""
        return len(text)

    def text_name(self, kind: ActionKind) -> str:
        """What a too-long text is called in the refusal ("X post")."""
        return f"{self.name} {kind.value.replace('_', ' ')}"

    def counting_note(self, kind: ActionKind) -> str:  # noqa: ARG002
        """How the platform counts, when it does not count plain characters."""
        return ""

    # --- sending --------------------------------------------------------------------------

    @abc.abstractmethod
    def default_channel(self, kind: ActionKind) -> Channel:
        """The channel of an outgoing action whose receipt names none."""

    def direct_message_options(
        self, since_last_message: timedelta, human: bool  # noqa: ARG002
    ) -> dict[str, str]:
        """Options of a direct message answering a customer who wrote `since_last_message`
        ago; raises ChannelRuleError when the platform's window for it has passed."""
        return {}

    def human_agent(self, account: AccountConfig) -> bool:  # noqa: ARG002
        """True when the account may answer by hand later than an automatic reply could."""
        return False

    private_reply_window: ClassVar[timedelta | None] = None
    """How long after a public message its author can get the one private reply to it;
    None when the platform has no private replies."""

    def check_private_reply(self, target_created_at: datetime | None, now: datetime) -> None:
        """Refuse a private reply the platform would refuse (no such thing, too late)."""
        window = self.private_reply_window
        if window is None:
            raise ChannelRuleError(f"{self.display_name} has no private replies; send a "
                                   "direct message")
        if target_created_at is not None and now - target_created_at > window:
            raise ChannelRuleError(self.private_reply_too_late())

    def private_reply_too_late(self) -> str:
        return (f"{self.display_name} allows a private reply only within "
                f"{self.private_reply_window} of the public message")

    def no_private_channel(self) -> str:
        """Why nothing private can be sent, when neither window is open."""
        return "no private channel is open"

    # --- the privacy guard -----------------------------------------------------------------

    @abc.abstractmethod
    def salutation(self, post: PublicPost) -> str:
        """How the guard's texts address the author (`{name}`)."""

    def dm_link(self, account: AccountConfig) -> str | None:  # noqa: ARG002
        """A link that opens a private conversation with the account, if the platform has one."""
        return None

    @abc.abstractmethod
    def redirect_plan(self, post: PublicPost, texts: RedirectTexts, now: datetime
                      ) -> RedirectSteps:
        """What the guard does with a public post that shows personal data."""

    # --- the desk -------------------------------------------------------------------------

    def describe_private(self, handle: str, channel: str, private_kind: str | None
                         ) -> str | None:
        """The composer's title for a private answer, from the kind `private_channel` chose;
        None when no private channel is open."""
        if private_kind == ActionKind.DIRECT_MESSAGE.value:
            return f"PRIVATE message on {self.private_channel_label} to {handle}"
        if private_kind == ActionKind.PRIVATE_REPLY.value:
            return f"PRIVATE reply to {handle}'s {self.channel_label(channel)}"
        return None

    # --- doctor ---------------------------------------------------------------------------

    def account_checks(
        self, account: AccountConfig, connector: Any, now: datetime  # noqa: ARG002
    ) -> Iterator[Check]:
        """What `doctor` checks of the account against the API (token, permissions, API
        version), through the connector's own checking calls; nothing by default."""
        return iter(())
