"""A progress display for long first syncs, on stderr and only when it is a terminal."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn


class SyncProgress:
    """Counts items per account and stream; silent when stderr is a file or a cron mail."""

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

    def __enter__(self) -> SyncProgress:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.enabled:
            self.progress.stop()

    def page(self, account: str, stream: str, items: int) -> None:
        if not self.enabled:
            return
        key = (account, stream)
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(f"{account} {stream}", total=None)
        self.progress.advance(self.tasks[key], items)
