"""Finds platform connectors through the `socialdesk.connectors` entry-point group.

A third platform is a package that registers a `Connector` subclass there; the core
never imports `connectors.x` by path.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from connectors.base import Connector
from socialdesk.errors import ConfigError

ENTRY_POINT_GROUP = "socialdesk.connectors"


def connector_names() -> list[str]:
    """Registered platform names, without importing any connector."""
    return sorted(entry.name for entry in entry_points(group=ENTRY_POINT_GROUP))


def load_connector(platform: str) -> type[Connector]:
    """The connector class for `platform`; a ConfigError names the installed ones."""
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == platform:
            connector = entry.load()
            if not (isinstance(connector, type) and issubclass(connector, Connector)):
                raise ConfigError(f"entry point {entry.value!r} is not a socialdesk Connector")
            return connector
    installed = ", ".join(connector_names()) or "none"
    raise ConfigError(f"no connector for platform {platform!r} (installed: {installed})")
