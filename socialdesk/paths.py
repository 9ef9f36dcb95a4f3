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


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
"""The customers' personal data lives in the database and in unmasked exports: no other user
of the machine may read them (socialdesk's defaults were 0755 folders and 0644 files)."""


def make_private_dir(path: Path) -> Path:
    """Create `path` 0700 when missing (parents as the system makes them); an existing
    folder is left as it is: it may be the user's own (`~/`), not socialdesk's."""
    if not path.is_dir():
        path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        path.chmod(PRIVATE_DIR_MODE)  # mkdir's mode passes through the umask
    return path


def open_private(path: Path, *, exclusive: bool = False) -> int:
    """A write descriptor on `path`, created 0600 and truncated; an existing file is made
    0600 too. `exclusive`: refuse a file that already exists (FileExistsError)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (os.O_EXCL if exclusive else 0)
    descriptor = os.open(path, flags, PRIVATE_FILE_MODE)
    os.fchmod(descriptor, PRIVATE_FILE_MODE)
    return descriptor


def tighten(path: Path, mode: int) -> bool:
    """Take group and other permissions off an existing `path` of ours beyond `mode`;
    True when it changed. Files of another owner are left alone (chmod would fail)."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return False
    if status.st_uid != os.getuid() or not status.st_mode & 0o077 & ~mode:
        return False
    path.chmod(status.st_mode & 0o777 & mode)
    return True


def too_open(path: Path) -> bool:
    """True when others than the owner may read, write or enter `path`."""
    try:
        return bool(path.stat().st_mode & 0o077)
    except OSError:
        return False
