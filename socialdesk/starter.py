"""`socialdesk init`: a starter config in the user's config dir, never over an existing one."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from socialdesk.errors import ConfigError


def starter_config_text() -> str:
    """The documented example shipped with the package (the repo's config.example.toml)."""
    return (files("socialdesk") / "config.example.toml").read_text(encoding="utf-8")


def write_starter_config(path: Path) -> Path:
    if path.exists():
        raise ConfigError(f"{path}: a config already exists; it was left untouched")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as handle:  # "x": never clobber one made meanwhile
        handle.write(starter_config_text())
    return path
