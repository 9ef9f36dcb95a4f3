"""Decides what to do with a public message that carries personal data.

A pure function of the post, the entities found and the account's settings: it returns
planned actions and touches neither the database nor the network. `sync` (automatic
mode) and the TUI (suggest mode) queue them through the outbox.

Which actions, in which order, is each platform's own redirect plan
(`Platform.redirect_plan`); this module finds the language, the texts and the mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import Channel, Visibility
from socialdesk.config import AccountConfig
from socialdesk.platforms.contract import PlannedAction, PublicPost, Purpose, RedirectTexts
from socialdesk.platforms.registry import platform_named
from socialdesk.privacy.detect import Entity
from socialdesk.privacy.language import post_language
from socialdesk.privacy.templates import (
    PublicTextRefused,
    redirect_texts,
    render,
    type_names,
)
from socialdesk.rules_config import PrivacyMode, PrivacySettings, PrivacyTemplateSettings

PUBLIC_CHANNELS = frozenset({channel.value for channel in Channel
                             if channel.visibility is Visibility.PUBLIC})


@dataclass(frozen=True)
class RedirectPlan:
    """What the guard would do, in order, and in which mode.

    `pointer_if_dm_refused` replaces the last action, the public pointer, when the private
    message could not be sent: it carries the link that opens the private channel.
    """

    mode: PrivacyMode
    language: str
    types: tuple[str, ...]
    actions: tuple[PlannedAction, ...]
    pointer_if_dm_refused: PlannedAction | None = None
    notes: tuple[str, ...] = ()
    """Why an action one would expect is missing (private reply window over, ...)."""


def effective_mode(privacy: PrivacySettings, account: AccountConfig) -> PrivacyMode:
    """The account's `privacy_mode` when set, else `[privacy] mode`."""
    return account.privacy_mode or privacy.mode


def plan_redirect(
    post: PublicPost,
    entities: Sequence[Entity],
    account: AccountConfig,
    privacy: PrivacySettings,
    now: datetime,
    earlier_redirects: int = 0,
) -> RedirectPlan | None:
    """The guard's actions for `post`, or None when there is nothing to do.

    `earlier_redirects` (the author's earlier exposures) picks the pointer's wording, so
    a repeat customer's pointers differ.

    Nothing is planned for private messages, posts without personal data, or accounts
    whose mode is `off`; the caller passes only inbound posts (never the brand's own).
    """
    mode = effective_mode(privacy, account)
    if mode == "off" or not entities or not _is_public(post):
        return None
    language = post_language(post.text, account.language, entities)
    templates = _templates(privacy.templates, language, account.language)
    types = tuple(sorted({entity.type for entity in entities}))
    platform = platform_named(post.platform)
    name = platform.salutation(post)
    try:
        texts = redirect_texts(templates, language, name, entities, platform.dm_link(account),
                               earlier_redirects)
        refused = None
    except PublicTextRefused as error:
        private = render(templates.private_message, name=name,
                         types=type_names(types, language))
        texts = RedirectTexts(language, private, "", None)
        refused = str(error)
    steps = platform.redirect_plan(post, texts, now)
    actions, fallback, notes = steps.actions, steps.pointer_if_private_refused, steps.notes
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
