"""Progress displays for long work (a first sync, a rescan, a large export), on stderr and
only when it is a terminal."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Self, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class TerminalProgress:
    """A live display on `err` only when it is a terminal (and `shown`): silent in a file,
    a pipe or a cron mail, which get the final line alone.

    While it is live, log lines go through its console: written straight to stderr they
    would break into the bars' redraw and leave torn lines behind.
    """

    def __init__(self, err: TextIO, *columns: ProgressColumn | str, shown: bool = True) -> None:
        console = Console(file=err)
        self.enabled = shown and console.is_terminal
        self.progress = Progress(*columns, console=console, transient=True)
        self._live = ExitStack()

    def __enter__(self) -> Self:
        if self.enabled:
            self._live.enter_context(logging_through(self.progress.console))
            self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.enabled:
            self.progress.stop()
            self._live.close()


class SyncProgress(TerminalProgress):
    """Items per account and stream, as the sync's pages arrive."""

    def __init__(self, err: TextIO) -> None:
        super().__init__(err, SpinnerColumn(), TextColumn("{task.description}"),
                         TextColumn("{task.completed} items"), TimeElapsedColumn())
        self.tasks: dict[tuple[str, str], TaskID] = {}

    def page(self, account: str, stream: str, items: int) -> None:
        if not self.enabled:
            return
        key = (account, stream)
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(f"{account} {stream}", total=None)
        self.progress.advance(self.tasks[key], items)


class CountedProgress(TerminalProgress):
    """One bar towards a known total (`privacy rescan`'s messages)."""

    def __init__(self, err: TextIO, description: str, total: int) -> None:
        super().__init__(err, TextColumn("{task.description}"), BarColumn(),
                         MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
        self.task = self.progress.add_task(description, total=total)

    def advance(self, done: int) -> None:
        if self.enabled:
            self.progress.advance(self.task, done)


class RowsProgress(TerminalProgress):
    """Rows written so far by a long export (`report` to a file or a pipe)."""

    def __init__(self, err: TextIO, label: str, shown: bool) -> None:
        super().__init__(err, SpinnerColumn(), TextColumn(label),
                         TextColumn("{task.completed:,} rows"), TimeElapsedColumn(),
                         shown=shown)
        self.task = self.progress.add_task(label, total=None)

    def rows(self, written: int) -> None:
        if self.enabled:
            self.progress.update(self.task, completed=written)


class ConsoleHandler(logging.Handler):
    """Writes each record through a Rich console, so a live display (the sync progress bars)
    moves down and redraws below the line instead of being cut through by it."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            self.console.print(Text(line), soft_wrap=True, highlight=False, markup=False)
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)


@contextmanager
def logging_through(console: Console) -> Iterator[None]:
    """While a live display owns the terminal, the root logger's stream handlers write through
    `console` (same format, level and filters, so redaction and masking still apply); the
    handlers come back when the display ends."""
    root = logging.getLogger()
    originals = list(root.handlers)
    root.handlers[:] = [_through(handler, console) for handler in originals]
    try:
        yield
    finally:
        root.handlers[:] = originals


def _through(handler: logging.Handler, console: Console) -> logging.Handler:
    """A plain stream handler (`configure_logging`'s stderr one) as a `ConsoleHandler`;
    files and anything else are left as they are."""
    if type(handler) is not logging.StreamHandler:
        return handler
    replacement = ConsoleHandler(console)
    replacement.setLevel(handler.level)
    replacement.setFormatter(handler.formatter)
    for log_filter in handler.filters:
        replacement.addFilter(log_filter)
    return replacement
