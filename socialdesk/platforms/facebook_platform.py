"""Facebook Pages: account settings, channels, Messenger's windows, the one private reply,
and the privacy redirect that hides the comment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import partial
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from connectors.base import ActionKind, Channel
from socialdesk.config import AccountConfig
from socialdesk.platforms.channel_rules import ChannelRuleError
from socialdesk.platforms.checks import Check, Mark, call_check
from socialdesk.platforms.contract import (
    PlannedAction,
    Platform,
    PublicPost,
    Purpose,
    RedirectSteps,
    RedirectTexts,
)

DEFAULT_GRAPH_VERSION = "v25.0"
"""Graph v25.0 is available until 2028-07-29 (Graph API changelog, PLATFORMS.md)."""

FACEBOOK_POLL_SECONDS = {"feed": 60, "messenger": 60}
"""The slowest intervals, for quiet streams: a comment or message waits at most a minute."""
FACEBOOK_FAST_POLL_SECONDS = {"feed": 30, "messenger": 30}
"""While customers write. The Page's quota is shared by its streams; past 80 % of it the
usage headers double the interval (`socialdesk.service.pacing`)."""

MESSENGER_LIMIT = 2_000
"""Messenger's Send API refuses text longer than 2,000 characters (private replies too)."""
FACEBOOK_COMMENT_LIMIT = 8_000

MESSENGER_RESPONSE_WINDOW = timedelta(hours=24)
"""Messenger accepts `RESPONSE` messages for 24 hours after the person's last message."""

MESSENGER_HUMAN_AGENT_WINDOW = timedelta(days=7)
"""Graph's HUMAN_AGENT tag allows human replies up to 7 days after the last user message."""

PRIVATE_REPLY_WINDOW = timedelta(days=7)
"""Meta: one private reply per comment or visitor post, within 7 days of it."""


class FacebookAccount(AccountConfig):
    SECRET_KEYS: ClassVar[tuple[str, ...]] = ("page_token",)

    platform: Literal["facebook"]
    page_id: Annotated[str, Field(pattern=r"^[0-9]+$")]
    page_token_env: str
    app_secret_env: str | None = None
    """The variable holding the app's secret: only `doctor` uses it, to read which
    permissions have Advanced Access (an app token is the app id and its secret)."""
    graph_version: Annotated[str, Field(pattern=r"^v[0-9]+\.0$")] = DEFAULT_GRAPH_VERSION
    comment_lookback_days: Annotated[int, Field(ge=1, le=90)] = 7
    """How far back the first sync reads; 7 days is the private-reply window."""
    post_horizon_days: Annotated[int, Field(ge=1, le=365)] = 30
    """Posts created this many days before the last sync are checked for new comments
    (Graph lists the feed by creation; a comment moves its post's `updated_time`)."""
    human_agent: bool = False
    """The app has Meta's Human Agent feature: operators may answer Messenger up to 7 days
    after the person's last message (MESSAGE_TAG + HUMAN_AGENT), never automatic replies."""
    POLL_SECONDS = FACEBOOK_POLL_SECONDS
    FAST_POLL_SECONDS = FACEBOOK_FAST_POLL_SECONDS
    """Streams `feed`, `messenger`, polled by `socialdesk run`."""
    LABEL = "Facebook"

    def secret_env_names(self) -> dict[str, str]:
        names = {"page_token": self.page_token_env}
        if self.app_secret_env:
            names["app_secret"] = self.app_secret_env
        return names

    def options(self) -> dict[str, Any]:
        return {
            "page_id": self.page_id,
            "page_token_env": self.page_token_env,
            "graph_version": self.graph_version,
            "comment_lookback_days": self.comment_lookback_days,
            "max_response_mb": self.max_response_mb,
            "post_horizon_days": self.post_horizon_days,
        }

    def own_id(self) -> str:
        return self.page_id


def messenger_type(since_last_message: timedelta, human: bool) -> dict[str, str]:
    """RESPONSE inside 24 hours; MESSAGE_TAG + HUMAN_AGENT up to 7 days for a human with
    the feature; otherwise refused, saying why."""
    if since_last_message <= MESSENGER_RESPONSE_WINDOW:
        return {"messaging_type": "RESPONSE"}
    if since_last_message <= MESSENGER_HUMAN_AGENT_WINDOW and human:
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    hours = int(since_last_message.total_seconds() // 3600)
    if since_last_message <= MESSENGER_HUMAN_AGENT_WINDOW:
        raise ChannelRuleError(
            f"the customer's last Messenger message is {hours} hours old: Messenger allows "
            "answers for 24 hours; up to 7 days only for a human reply when the app has the "
            "Human Agent feature (human_agent = true on the account)"
        )
    raise ChannelRuleError(
        f"the customer's last Messenger message is {hours} hours old: Messenger allows no "
        "answer after 7 days; wait for the customer to write again"
    )


GRAPH_VERSION_ENDS = {
    "v23.0": date(2027, 10, 8),
    "v24.0": date(2028, 2, 18),
    "v25.0": date(2028, 7, 29),
    "v26.0": None,
}
"""Graph API changelog (PLATFORMS.md): the end of each version socialdesk knows; None = no end
announced (the latest). Older versions are past their end."""
VERSION_WARNING = timedelta(days=90)


def _token_checks(account: FacebookAccount, connector: Any) -> Iterator[Check]:
    subject = f"{account.name} token"
    page = yield from call_check(subject, connector.whoami)
    if page is None:
        return
    if page["id"] != account.page_id:
        yield Check(Mark.FAILED, subject, f"the token is for Page {page['id']}, but page_id is "
                    f"{account.page_id}: use that Page's token")
        return
    yield Check(Mark.OK, subject, f"Page token works for {page['name']!r} ({page['id']})")
    for edge in ("feed", "conversations"):
        done = yield from call_check(f"{account.name} {edge}", partial(connector.check_edge, edge))
        if done is not None:
            yield Check(Mark.OK, f"{account.name} {edge}", "readable")
    access = yield from call_check(f"{account.name} access level", connector.app_access)
    if access is not None:
        yield _access_level(account, access)


def _access_level(account: FacebookAccount, access: Any) -> Check:
    """Standard Access passes every read while real customers stay invisible: say so."""
    subject = f"{account.name} access level"
    if access.advanced is None:
        return Check(Mark.WARNING, subject, f"cannot tell whether app {access.name!r} has "
                     "Advanced Access: set app_secret_env so doctor can read its App Review "
                     "status; with Standard Access Facebook shows the app only people with a "
                     "role on it")
    missing = access.standard_only()
    if missing:
        return Check(Mark.WARNING, subject, f"app {access.name!r} has only Standard Access "
                     f"for {', '.join(missing)}: Facebook shows it only people with a role on "
                     "the app, not your customers; request Advanced Access through App Review")
    return Check(Mark.OK, subject, f"app {access.name!r} has Advanced Access")


def _graph_version(account: FacebookAccount, now: datetime) -> Check:
    subject = f"{account.name} graph_version"
    version = account.graph_version
    if version not in GRAPH_VERSION_ENDS:
        newest = max(GRAPH_VERSION_ENDS, key=lambda v: float(v[1:]))
        if float(version[1:]) > float(newest[1:]):
            return Check(Mark.WARNING, subject, f"{version} is newer than socialdesk knows "
                         f"(tested up to {newest})")
        return Check(Mark.FAILED, subject, f"{version} is past its end of life: set "
                     'graph_version = "v25.0"')
    ends = GRAPH_VERSION_ENDS[version]
    if ends is None:
        return Check(Mark.OK, subject, f"{version}, no end announced")
    left = ends - now.date()
    if left.days < 0:
        return Check(Mark.FAILED, subject, f"{version} ended on {ends}: move to a newer version")
    if left <= VERSION_WARNING:
        return Check(Mark.WARNING, subject, f"{version} ends on {ends} ({left.days} days): "
                     "move to a newer version soon")
    return Check(Mark.OK, subject, f"{version}, available until {ends}")


class FacebookPlatform(Platform):
    """Facebook can hide a comment: the redirect hides it, sends the one private reply Meta
    allows (within 7 days) and answers in public with a neutral pointer."""

    name = "facebook"
    display_name = "Facebook"
    account_model = FacebookAccount
    channel_labels = {Channel.COMMENT: "FB comment", Channel.VISITOR_POST: "FB visitor post",
                      Channel.MESSENGER: "FB message"}
    private_channel = Channel.MESSENGER
    private_channel_label = "Messenger"
    private_reply_window = PRIVATE_REPLY_WINDOW

    def text_limit(self, kind: ActionKind) -> int:
        return FACEBOOK_COMMENT_LIMIT if kind is ActionKind.REPLY else MESSENGER_LIMIT

    def default_channel(self, kind: ActionKind) -> Channel:
        return Channel.COMMENT if kind is ActionKind.REPLY else Channel.MESSENGER

    def direct_message_options(self, since_last_message: timedelta, human: bool
                               ) -> dict[str, str]:
        return messenger_type(since_last_message, human)

    def human_agent(self, account: AccountConfig) -> bool:
        return isinstance(account, FacebookAccount) and account.human_agent

    def private_reply_too_late(self) -> str:
        return ("Facebook allows a private reply only within 7 days of the comment or post; "
                "this one is older: answer in public with a neutral pointer")

    def no_private_channel(self) -> str:
        return ("no private channel is open: the Messenger window has passed and Facebook "
                "allows a private reply only within 7 days of a comment or visitor post")

    def salutation(self, post: PublicPost) -> str:
        """The first name: Facebook gives names, not handles."""
        return (post.author_name or "").split(" ")[0]

    def redirect_plan(self, post: PublicPost, texts: RedirectTexts, now: datetime
                      ) -> RedirectSteps:
        channel = Channel(post.channel)
        target = post.external_id
        actions = [PlannedAction(Purpose.HIDE, ActionKind.HIDE, target, channel)]
        notes: tuple[str, ...] = ()
        if now - post.created_at <= PRIVATE_REPLY_WINDOW:
            actions.append(PlannedAction(
                Purpose.PRIVATE_MESSAGE, ActionKind.PRIVATE_REPLY, target, channel,
                recipient_id=post.author_id, text=texts.private_message,
                options={"target_created_at": post.created_at.isoformat()},
            ))
        else:
            notes = ("older than 7 days: Facebook allows no private reply, only the public "
                     "pointer",)
        actions.append(PlannedAction(
            Purpose.PUBLIC_POINTER, ActionKind.REPLY, target, channel, text=texts.public_pointer
        ))
        return RedirectSteps(tuple(actions), None, notes)

    def describe_private(self, handle: str, channel: str, private_kind: str | None
                         ) -> str | None:
        if private_kind == ActionKind.PRIVATE_REPLY.value:
            return (f"PRIVATE reply to {handle}'s {self.channel_label(channel)}: Facebook's "
                    "one private reply (Messenger is not open to them)")
        return super().describe_private(handle, channel, private_kind)


    def account_checks(
        self, account: AccountConfig, connector: Any, now: datetime
    ) -> Iterator[Check]:
        """The Graph version's end of life, the Page token, the edges, the access level."""
        assert isinstance(account, FacebookAccount)
        yield _graph_version(account, now)
        yield from _token_checks(account, connector)


PLATFORM = FacebookPlatform()
