"""X: its account settings, channels, text counting and the privacy redirect by DM."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from connectors.base import ActionKind, Channel
from socialdesk.config import AccountConfig
from socialdesk.platforms.checks import Check, Mark, call_check
from socialdesk.platforms.contract import (
    PlannedAction,
    Platform,
    PublicPost,
    Purpose,
    RedirectSteps,
    RedirectTexts,
)

X_POLL_SECONDS = {"mentions": 60, "dms": 120}
"""The slowest intervals, for quiet streams: a mention waits at most a minute, a DM two
(DM lookup allows 15 calls per 15 min: a quiet stream spends half of them)."""
X_FAST_POLL_SECONDS = {"mentions": 20, "dms": 60}
"""While customers write: mentions cost nothing when empty (`since_id`, billed per post
returned) and allow 300 calls per 15 min; DMs at 60 s spend the whole 15 per 15 min, and
the usage headers slow them further when a pass takes more than one page."""

X_POST_LIMIT = 280
"""X counts weighted characters: most Latin text 1 each, CJK and emoji 2, any URL 23."""
X_DM_LIMIT = 10_000

X_DM_LINK = "https://x.com/messages/compose?recipient_id={user_id}"
"""Opens a DM to the account; a post with a URL costs 20x on X, so only as a fallback."""


class XAccount(AccountConfig):
    SECRET_KEYS: ClassVar[tuple[str, ...]] = (
        "bearer_token", "consumer_key", "consumer_secret", "access_token", "access_token_secret")

    platform: Literal["x"]
    user_id: Annotated[str, Field(pattern=r"^[0-9]+$")]
    bearer_token_env: str
    consumer_key_env: str
    consumer_secret_env: str
    access_token_env: str
    access_token_secret_env: str
    POLL_SECONDS = X_POLL_SECONDS
    FAST_POLL_SECONDS = X_FAST_POLL_SECONDS
    """Streams `mentions`, `dms`, polled by `socialdesk run`."""
    LABEL = "X"

    def secret_env_names(self) -> dict[str, str]:
        return {key: getattr(self, f"{key}_env") for key in self.SECRET_KEYS}

    def options(self) -> dict[str, Any]:
        env_names = {f"{key}_env": name for key, name in self.secret_env_names().items()}
        return {"user_id": self.user_id, "max_response_mb": self.max_response_mb,
                "adaptive_polling": self.adaptive_polling, **env_names}

    def own_id(self) -> str:
        return self.user_id


def x_weighted_length(text: str) -> int:
    """The length X counts, by X's own rules as the twitter-text library implements them
    (URLs 23, emoji 2 however many code points they join, CJK 2). Imported on first use:
    compiling its patterns takes the best part of a second, which no command but the
    ones that count should pay."""
    from twitter_text import parse_tweet  # type: ignore[import-untyped]

    return int(parse_tweet(text).weightedLength)


def _token_checks(account: XAccount, connector: Any) -> Iterator[Check]:
    subject = f"{account.name} token"
    owner = connector.token_user_id()
    if owner is not None and owner != account.user_id:
        yield Check(Mark.FAILED, subject, f"the access token belongs to user {owner}, but "
                    f"user_id is {account.user_id}: use the keys of the account you answer for")
        return
    if owner is None:
        yield Check(Mark.WARNING, subject, "the access token has no user-id prefix "
                    "(not an OAuth 1.0a user token?); checking with the API")
    me = yield from call_check(subject, connector.whoami)
    if me is None:
        return
    if me["id"] != account.user_id:
        yield Check(Mark.FAILED, subject, f"the keys authenticate user {me['id']} "
                    f"(@{me['username']}), but user_id is {account.user_id}")
        return
    yield Check(Mark.OK, subject, f"keys work for @{me['username']} ({me['id']})")
    yield _access_level(account, me.get("access_level", ""))


def _access_level(account: XAccount, level: str) -> Check:
    """What the app's permission (X's `x-access-level` header) lets socialdesk do.

    X refuses DM reads and sends below `read-write-directmessages`, and every reply or hide
    below `read-write`; a token keeps the permission it was made with, so the advice says
    to regenerate it after changing the app.
    """
    subject = f"{account.name} app permission"
    regenerate = ("set App permissions to 'Read, write and Direct Messages' under User "
                  "authentication settings in the developer portal, then regenerate the access "
                  "token and secret")
    if not level:
        return Check(Mark.WARNING, subject, "X sent no x-access-level header; cannot tell "
                     "whether the app may read direct messages")
    if level == "read-write-directmessages":
        return Check(Mark.OK, subject, f"{level}: mentions, replies and direct messages work")
    cannot = ("direct messages cannot be read or sent" if level == "read-write" else
              "direct messages cannot be read or sent, and no reply or hide can be posted")
    return Check(Mark.FAILED, subject, f"{level}: {cannot}; {regenerate}")


class XPlatform(Platform):
    """X cannot hide a customer's mention: the redirect is a DM and a public pointer
    without a link; when the DM cannot be sent, the pointer carries the DM link instead."""

    name = "x"
    display_name = "X"
    account_model = XAccount
    channel_labels = {Channel.MENTION: "X mention", Channel.DM: "X DM"}
    private_channel = Channel.DM
    private_channel_label = "X DM"
    messages_first = True

    def text_limit(self, kind: ActionKind) -> int:
        return X_POST_LIMIT if kind is ActionKind.REPLY else X_DM_LIMIT

    def text_length(self, kind: ActionKind, text: str) -> int:
        return x_weighted_length(text) if kind is ActionKind.REPLY else len(text)

    def text_name(self, kind: ActionKind) -> str:
        return "X post" if kind is ActionKind.REPLY else super().text_name(kind)

    def counting_note(self, kind: ActionKind) -> str:
        return " (as X counts: URLs 23, emoji and CJK 2)" if kind is ActionKind.REPLY else ""

    def default_channel(self, kind: ActionKind) -> Channel:
        return Channel.MENTION if kind is ActionKind.REPLY else Channel.DM

    def salutation(self, post: PublicPost) -> str:
        """The @handle: it also keeps X from refusing the same text twice."""
        return f"@{post.author_handle}" if post.author_handle else ""

    def dm_link(self, account: AccountConfig) -> str | None:
        user_id = account.own_id()
        return X_DM_LINK.format(user_id=user_id) if user_id else None

    def redirect_plan(
        self, post: PublicPost, texts: RedirectTexts, now: datetime  # noqa: ARG002
    ) -> RedirectSteps:
        channel = Channel(post.channel)
        target = post.external_id
        pointer = PlannedAction(
            Purpose.PUBLIC_POINTER, ActionKind.REPLY, target, channel, text=texts.public_pointer
        )
        with_link = (
            PlannedAction(Purpose.PUBLIC_POINTER, ActionKind.REPLY, target, channel,
                          text=texts.public_pointer_with_link)
            if texts.public_pointer_with_link else None
        )
        if not post.author_id:
            return RedirectSteps(((with_link or pointer),), None,
                                 ("the author is unknown: no DM can be sent",))
        dm = PlannedAction(
            Purpose.PRIVATE_MESSAGE, ActionKind.DIRECT_MESSAGE, recipient_id=post.author_id,
            text=texts.private_message,
        )
        return RedirectSteps((dm, pointer), with_link)

    def describe_private(
        self, handle: str, channel: str, private_kind: str | None  # noqa: ARG002
    ) -> str | None:
        return f"PRIVATE message: X DM to {handle}"

    def account_checks(
        self, account: AccountConfig, connector: Any, now: datetime  # noqa: ARG002
    ) -> Iterator[Check]:
        """The keys' owner against `user_id`, then the app's permission."""
        assert isinstance(account, XAccount)
        return _token_checks(account, connector)


PLATFORM = XPlatform()
