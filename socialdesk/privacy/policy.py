"""Decides what to do with a public message that carries personal data.

A pure function of the post, the entities found and the account's settings: it returns
planned actions and touches neither the database nor the network. `sync` (automatic
mode) and the TUI (suggest mode) queue them through the outbox.

Facebook: hide the comment or visitor post, send the one private reply Meta allows
(within 7 days), answer in public with a neutral pointer. X cannot hide a customer's
mention, so: a DM, and a public pointer without a link; when the DM cannot be sent, the
pointer carries the DM deep link instead (a post with a URL costs 20x on X).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from connectors.base import ActionKind, Channel, Visibility
from socialdesk.config import (
    FacebookAccount,
    PrivacyMode,
    PrivacySettings,
    PrivacyTemplateSettings,
    XAccount,
)
from socialdesk.privacy.detect import Entity
from socialdesk.privacy.language import post_language
from socialdesk.privacy.templates import (
    PublicTextRefused,
    RedirectTexts,
    redirect_texts,
    render,
    type_names,
)

PRIVATE_REPLY_WINDOW = timedelta(days=7)
"""Meta: one private reply per comment or visitor post, within 7 days of it."""

PUBLIC_CHANNELS = frozenset({Channel.MENTION.value, Channel.COMMENT.value,
                             Channel.VISITOR_POST.value})


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
    """One outbox action, in outbox terms, with the reason it is planned."""

    purpose: Purpose
    kind: ActionKind
    target_external_id: str | None = None
    target_channel: Channel | None = None
    recipient_id: str | None = None
    text: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RedirectPlan:
    """What the guard would do, in order, and in which mode.

    `pointer_if_dm_refused` (X only) replaces the last action, the public pointer, when
    the DM could not be sent: it carries the DM deep link.
    """

    mode: PrivacyMode
    language: str
    types: tuple[str, ...]
    actions: tuple[PlannedAction, ...]
    pointer_if_dm_refused: PlannedAction | None = None
    notes: tuple[str, ...] = ()
    """Why an action one would expect is missing (private reply window over, ...)."""


def effective_mode(privacy: PrivacySettings, account: XAccount | FacebookAccount) -> PrivacyMode:
    """The account's `privacy_mode` when set, else `[privacy] mode`."""
    return account.privacy_mode or privacy.mode


def plan_redirect(
    post: PublicPost,
    entities: Sequence[Entity],
    account: XAccount | FacebookAccount,
    privacy: PrivacySettings,
    now: datetime,
) -> RedirectPlan | None:
    """The guard's actions for `post`, or None when there is nothing to do.

    Nothing is planned for private messages, posts without personal data, or accounts
    whose mode is `off`; the caller passes only inbound posts (never the brand's own).
    """
    mode = effective_mode(privacy, account)
    if mode == "off" or not entities or not _is_public(post):
        return None
    language = post_language(post.text, account.language, entities)
    templates = _templates(privacy.templates, language, account.language)
    types = tuple(sorted({entity.type for entity in entities}))
    dm_user_id = account.user_id if isinstance(account, XAccount) else None
    try:
        texts = redirect_texts(templates, language, _name(post), entities, dm_user_id)
        refused = None
    except PublicTextRefused as error:
        private = render(templates.private_message, name=_name(post),
                         types=type_names(types, language))
        texts = RedirectTexts(language, private, "", None)
        refused = str(error)
    plan = _facebook_plan(post, texts, now) if post.platform == "facebook" else _x_plan(post, texts)
    actions, fallback, notes = plan
    if refused:
        actions = tuple(a for a in actions if a.purpose is not Purpose.PUBLIC_POINTER)
        fallback, notes = None, (*notes, refused)
    return RedirectPlan(mode, language, types, actions, fallback, notes)


def _is_public(post: PublicPost) -> bool:
    return post.visibility == Visibility.PUBLIC.value and post.channel in PUBLIC_CHANNELS


def _templates(
    templates: Mapping[Any, PrivacyTemplateSettings], language: str, default: str
) -> PrivacyTemplateSettings:
    return templates.get(language) or templates.get(default) or next(iter(templates.values()))


def _name(post: PublicPost) -> str:
    """X: the @handle (it also keeps X from refusing a repeated text); Facebook: first name."""
    if post.platform == "x":
        return f"@{post.author_handle}" if post.author_handle else ""
    return (post.author_name or "").split(" ")[0]


_Plan = tuple[tuple[PlannedAction, ...], PlannedAction | None, tuple[str, ...]]


def _facebook_plan(post: PublicPost, texts: RedirectTexts, now: datetime) -> _Plan:
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
        notes = ("older than 7 days: Facebook allows no private reply, only the public pointer",)
    actions.append(PlannedAction(
        Purpose.PUBLIC_POINTER, ActionKind.REPLY, target, channel, text=texts.public_pointer
    ))
    return tuple(actions), None, notes


def _x_plan(post: PublicPost, texts: RedirectTexts) -> _Plan:
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
        return ((with_link or pointer),), None, ("the author is unknown: no DM can be sent",)
    dm = PlannedAction(
        Purpose.PRIVATE_MESSAGE, ActionKind.DIRECT_MESSAGE, recipient_id=post.author_id,
        text=texts.private_message,
    )
    return (dm, pointer), with_link, ()
