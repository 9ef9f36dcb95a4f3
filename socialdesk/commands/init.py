"""`socialdesk init`: a starter config in the user's config dir, never over an existing one."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from socialdesk.errors import ConfigError
from socialdesk.paths import make_private_dir, open_private


def starter_config_text() -> str:
    """The documented example shipped with the package (the repo's config.example.toml)."""
    return (files("socialdesk") / "config.example.toml").read_text(encoding="utf-8")


def write_starter_config(path: Path) -> Path:
    if path.exists():
        raise ConfigError(f"{path}: a config already exists; it was left untouched")
    make_private_dir(path.parent)
    # exclusive: never clobber one made meanwhile; 0600: the file names the token variables
    # and the database, nobody else's business
    with os.fdopen(open_private(path, exclusive=True), "w", encoding="utf-8") as handle:
        handle.write(starter_config_text())
    return path
