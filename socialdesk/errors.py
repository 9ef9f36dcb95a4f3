"""The errors socialdesk shows to a person, and how the CLI renders them.

Every error a user can meet carries a short title and a message that says what to do;
the CLI prints it on one line to stderr and exits with the family's code, never with a
traceback.
"""

from __future__ import annotations

import sys
from typing import ClassVar, TextIO


class SocialdeskError(Exception):
    """Root of the errors a user can act on."""

    title: ClassVar[str] = "socialdesk error"
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(SocialdeskError):
    """The config file is missing, unreadable or wrong: fix the file."""

    title = "config error"
    exit_code = 2


class DatabaseError(SocialdeskError):
    """The database cannot be opened or upgraded."""

    title = "database error"
    exit_code = 3


class AccountSyncError(SocialdeskError):
    """One account could not be synced; the others go on."""

    title = "sync failed"

    def __init__(self, account: str, message: str) -> None:
        super().__init__(f"{account}: {message}")
        self.account = account


class UsageError(SocialdeskError):
    """A command was given arguments it cannot use."""

    title = "usage error"
    exit_code = 2


class UnexpectedError(SocialdeskError):
    """A bug or an environment problem socialdesk did not foresee."""

    title = "unexpected error"
    exit_code = 70  # EX_SOFTWARE


def render_error(error: SocialdeskError, stream: TextIO | None = None) -> None:
    """Print the error on one line; stderr, because stdout belongs to reports and scans."""
    print(f"socialdesk: {error.title}: {error.message}", file=stream or sys.stderr)  # noqa: T201
