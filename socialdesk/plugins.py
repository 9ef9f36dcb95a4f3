"""Finds what is installed under socialdesk's entry-point groups: connectors and platforms.

A platform is two entries of the same name: its connector (`socialdesk.connectors`, a
`Connector` subclass that speaks the API) and its platform module (`socialdesk.platforms`,
what the platform means to the desk). The core never imports either by path.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points

from connectors.base import Connector
from socialdesk.errors import ConfigError

CONNECTOR_GROUP = "socialdesk.connectors"
PLATFORM_GROUP = "socialdesk.platforms"


@functools.cache
def _installed(group: str) -> tuple[EntryPoint, ...]:
    """Scanning the installed distributions costs milliseconds: done once per group."""
    return tuple(entry_points(group=group))


def registered(group: str) -> tuple[EntryPoint, ...]:
    """The entries of `group`: the one seam through which platforms are discovered (a test
    registers a platform of its own by replacing this function)."""
    return _installed(group)


def connector_names() -> list[str]:
    """Registered platform names, without importing any connector."""
    return sorted(entry.name for entry in registered(CONNECTOR_GROUP))


def load_connector(platform: str) -> type[Connector]:
    """The connector class for `platform`; a ConfigError names the installed ones."""
    for entry in registered(CONNECTOR_GROUP):
        if entry.name == platform:
            connector = entry.load()
            if not (isinstance(connector, type) and issubclass(connector, Connector)):
                raise ConfigError(f"entry point {entry.value!r} is not a socialdesk Connector")
            return connector
    installed = ", ".join(connector_names()) or "none"
    raise ConfigError(f"no connector for platform {platform!r} (installed: {installed})")


def platform_names() -> list[str]:
    """Registered platform modules' names, sorted, without importing any."""
    return sorted(entry.name for entry in registered(PLATFORM_GROUP))


def load_platform_entry(platform: str) -> object:
    """What the `socialdesk.platforms` entry of `platform` names, unchecked: the caller
    (the platform registry, or config for the account model) checks its type."""
    for entry in registered(PLATFORM_GROUP):
        if entry.name == platform:
            return _load(entry)
    installed = ", ".join(platform_names()) or "none"
    raise ConfigError(f"no platform module for {platform!r} (installed: {installed})")


@functools.cache
def _load(entry: EntryPoint) -> object:
    return entry.load()
