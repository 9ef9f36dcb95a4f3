"""The platforms socialdesk knows: the one place that lists them, from the entry points.

Every question about a platform goes through `platform_named`; which platforms exist is
decided by what is installed under `socialdesk.platforms` (`plugins.registered`).
"""

from __future__ import annotations

from connectors.base import AccountSettings, ActionKind, Channel, Connector, ConnectorError
from socialdesk import plugins
from socialdesk.config import AccountConfig, resolve_secrets
from socialdesk.errors import AccountSyncError, ConfigError
from socialdesk.platforms.channel_rules import ChannelRuleError
from socialdesk.platforms.contract import Platform


def platform_named(name: str) -> Platform:
    """The platform module registered as `name`; a ConfigError names the installed ones."""
    platform = plugins.load_platform_entry(name)
    if not isinstance(platform, Platform) or platform.name != name:
        raise ConfigError(f"the {name!r} entry point does not name a socialdesk Platform "
                          f"called {name!r}")
    return platform


def registered_platforms() -> list[Platform]:
    """Every registered platform, by name."""
    return [platform_named(name) for name in plugins.platform_names()]


def platform_of(account: AccountConfig) -> Platform:
    return platform_named(account.platform)


def build_connector(config: AccountConfig) -> Connector:
    """The account's connector, with its secrets read from the environment.

    Raises:
        AccountSyncError: a secret is missing, or the connector refuses the settings.
        ConfigError: no connector is installed for the account's platform.
    """
    settings = AccountSettings(
        name=config.name, platform=config.platform, base_url=config.base_url,
        secrets=resolve_secrets(config), options=config.options(),
    )
    try:
        return plugins.load_connector(config.platform)(settings)
    except ConnectorError as error:
        raise AccountSyncError(config.name, str(error)) from None


def channel_label(platform: str, channel: str) -> str:
    """The short label of a channel ("X mention"); a platform no longer installed shows
    its stored name."""
    try:
        return platform_named(platform).channel_label(channel)
    except ConfigError:
        return f"{platform} {channel}"


def platform_display_name(platform: str) -> str:
    try:
        return platform_named(platform).display_name
    except ConfigError:
        return platform


def text_count(platform: str, kind: str, text: str) -> tuple[int, int, str]:
    """(length as the platform counts it, its limit for `kind`, how it counts): what the
    composer's live counter shows, by the rule `check_text` refuses with."""
    rules, action = platform_named(platform), ActionKind(kind)
    return rules.text_length(action, text), rules.text_limit(action), rules.counting_note(action)


def check_text(platform: str, kind: ActionKind, text: str | None) -> None:
    """Refuse an empty text, or one over the platform's limit, saying by how much."""
    if text is None or not text.strip():
        raise ChannelRuleError("the text is empty")
    rules = platform_named(platform)
    length, limit = rules.text_length(kind, text), rules.text_limit(kind)
    if length > limit:
        raise ChannelRuleError(
            f"the text is {length} characters{rules.counting_note(kind)}; an "
            f"{rules.text_name(kind)} allows {limit}: shorten it by {length - limit}"
        )


def channels_of(platform: str) -> tuple[Channel, ...]:
    """The platform's channels, in its order; none for a platform no longer installed."""
    try:
        return platform_named(platform).channels
    except ConfigError:
        return ()


def any_channel_label(channel: str) -> str:
    """A channel's label where the platform is not known (a count per channel): the
    labels of every registered platform that has it."""
    labels = [p.channel_label(channel) for p in registered_platforms()
              if channel in p.channel_labels]
    return " / ".join(dict.fromkeys(labels)) or channel
