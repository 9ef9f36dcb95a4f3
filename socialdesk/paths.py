"""Where socialdesk keeps its config and data by default (platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "socialdesk"
CONFIG_ENV = "SOCIALDESK_CONFIG"
"""Names a config file; beats the user config dir, loses to `--config`."""


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'socialdesk.db'}"


def resolve_config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """`--config` first, then `SOCIALDESK_CONFIG`, then the user config dir."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env).expanduser()
    return default_config_path()
