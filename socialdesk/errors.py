"""The errors socialdesk shows to a person, and how the CLI renders them.

Every error a user can meet carries a short title and a message that says what to do;
the CLI prints it on one line to stderr and exits with the family's code, never with a
traceback.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
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


class PermissionDenied(SocialdeskError):
    """The operator's role does not allow the action (`[team]`, `socialdesk team role`)."""

    title = "not allowed"
    exit_code = 77  # EX_NOPERM


class DiskFullError(SocialdeskError):
    """The disk (or the database's quota) is full: nothing socialdesk can fix by itself."""

    title = "disk full"
    exit_code = 74  # EX_IOERR


class StorageReadOnlyError(SocialdeskError):
    """The data folder or database cannot be written: a read-only mount or permissions."""

    title = "cannot write"
    exit_code = 73  # EX_CANTCREAT


class UnexpectedError(SocialdeskError):
    """A bug or an environment problem socialdesk did not foresee."""

    title = "unexpected error"
    exit_code = 70  # EX_SOFTWARE


FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
SQLITE_FULL = ("database or disk is full",)
SQLITE_READ_ONLY = ("attempt to write a readonly database", "unable to open database file",
                    "readonly database")
POSTGRES_FULL = frozenset({"53100"})  # disk_full
POSTGRES_READ_ONLY = frozenset({"25006"})  # read_only_sql_transaction
AFTER_A_FAULT = "nothing stored is lost, the next pass resumes where this one stopped"


def environment_fault(error: BaseException) -> SocialdeskError | None:
    """The full disk or read-only storage behind `error`, as one line a person can act on;
    None when it is something else (a bug, which keeps its traceback).

    Looks through the chain: SQLAlchemy wraps the driver's error in `.orig`, and a
    re-raised error keeps the first in `__cause__`/`__context__`.
    """
    for cause in _chain(error):
        if isinstance(cause, OSError) and cause.errno is not None:
            where = f"{cause.filename}: " if cause.filename else ""
            if cause.errno in FULL_ERRNOS:
                return DiskFullError(f"{where}{cause.strerror}; free some space: "
                                     f"{AFTER_A_FAULT}")
            if cause.errno in READ_ONLY_ERRNOS:
                return StorageReadOnlyError(f"{where}{cause.strerror}; make the data folder "
                                            f"writable: {AFTER_A_FAULT}")
        if getattr(cause, "orig", None) is not None:
            continue  # a SQLAlchemy wrapper: its driver error, next in the chain, says it
        text = str(cause).splitlines()[0] if str(cause) else ""
        state = getattr(cause, "sqlstate", None)
        if state in POSTGRES_FULL or any(mark in text.lower() for mark in SQLITE_FULL):
            return DiskFullError(f"the database cannot grow ({text}); free some space: "
                                 f"{AFTER_A_FAULT}")
        if state in POSTGRES_READ_ONLY or any(m in text.lower() for m in SQLITE_READ_ONLY):
            return StorageReadOnlyError(f"the database cannot be written ({text}); make the "
                                        f"database and its folder writable: {AFTER_A_FAULT}")
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, the driver error it wraps, and its causes, each once."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        cause = pending.pop(0)
        if id(cause) in seen:
            continue
        seen.add(id(cause))
        yield cause
        nested = [getattr(cause, "orig", None), cause.__cause__, cause.__context__]
        pending.extend(n for n in nested if isinstance(n, BaseException))


def render_error(error: SocialdeskError, stream: TextIO | None = None) -> None:
    """Print the error on one line; stderr, because stdout belongs to reports and scans."""
    print(f"socialdesk: {error.title}: {error.message}", file=stream or sys.stderr)  # noqa: T201
