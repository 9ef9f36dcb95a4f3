"""Where `socialdesk report` writes: stdout, a CSV file or an .xlsx workbook, each file
written beside its target and renamed into place when complete."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from socialdesk.commands.report import ReportCommand, run_report, run_workbook_report
from socialdesk.errors import UsageError


def report_to(config_path: Path, command: ReportCommand, target: str) -> int:
    """Write the report to `target` (`-` for stdout); returns the rows written."""
    if not command.workbook:
        with _output(target, private=command.unmask) as out:
            return run_report(config_path, command, out)
    path = _writable(target)
    try:
        return run_workbook_report(config_path, command, path)
    except OSError as error:
        if not _about_output(error, path):
            raise
        raise _output_error(error, target) from None


@contextlib.contextmanager
def _output(target: str, private: bool) -> Iterator[TextIO]:
    """stdout for '-'; a file through `atomic_output` (folders made, never half a report,
    no temp file left; 0600 when `private`). A path that cannot be written is the user's
    to fix, so it is one usage line naming it, not an "unexpected error"; a directory is
    refused before the report runs rather than after."""
    if target == "-":
        yield sys.stdout
        return
    from socialdesk.reports.csvout import atomic_output

    path = _writable(target)
    try:
        with atomic_output(path, private=private) as out:
            yield out
    except OSError as error:
        if not _about_output(error, path):
            raise
        raise _output_error(error, target) from None


def _writable(target: str) -> Path:
    """The report's file; a directory is refused before the report runs."""
    path = Path(target)
    if path.is_dir():
        raise UsageError(f"cannot write the report to {target}: it is a directory; "
                         "give a file name")
    return path


def _output_error(error: OSError, target: str) -> UsageError:
    """A path that cannot be written is the user's to fix: one usage line naming it."""
    return UsageError(f"cannot write the report to {target}: {error.strerror or error}")


def _about_output(error: OSError, path: Path) -> bool:
    """The error concerns the output (its folder, temp file or target, or a failed write
    to it, which names no file), not a file the report itself reads."""
    if not isinstance(error.filename, str | bytes):
        return True
    named = Path(os.fsdecode(error.filename))
    return named.parent == path.parent or path.is_relative_to(named)
