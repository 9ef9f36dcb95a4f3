"""A progress display for long first syncs, on stderr and only when it is a terminal."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class SyncProgress:
    """Counts items per account and stream; silent when stderr is a file or a cron mail.

    While the bars are live, log lines go through the bars' console: written straight to
    stderr they would break into the bars' redraw and leave torn lines behind.
    """

    def __init__(self, err: TextIO) -> None:
        console = Console(file=err)
        self.enabled = console.is_terminal
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed} items"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.tasks: dict[tuple[str, str], TaskID] = {}
        self._live = ExitStack()

    def __enter__(self) -> SyncProgress:
        if self.enabled:
            self._live.enter_context(logging_through(self.progress.console))
            self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.enabled:
            self.progress.stop()
            self._live.close()

    def page(self, account: str, stream: str, items: int) -> None:
        if not self.enabled:
            return
        key = (account, stream)
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(f"{account} {stream}", total=None)
        self.progress.advance(self.tasks[key], items)


class CountedProgress:
    """One bar towards a known total (`privacy rescan`'s messages); silent, like the sync's,
    when stderr is not a terminal."""

    def __init__(self, err: TextIO, description: str, total: int) -> None:
        console = Console(file=err)
        self.enabled = console.is_terminal
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True,
        )
        self.task = self.progress.add_task(description, total=total)
        self._live = ExitStack()

    def __enter__(self) -> CountedProgress:
        if self.enabled:
            self._live.enter_context(logging_through(self.progress.console))
            self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.enabled:
            self.progress.stop()
            self._live.close()

    def advance(self, done: int) -> None:
        if self.enabled:
            self.progress.advance(self.task, done)


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
