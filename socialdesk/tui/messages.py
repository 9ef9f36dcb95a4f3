"""Events the screens post to each other; past tense, as they report what happened."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.message import Message


class QueueChanged(Message):
    """Something in the store changed since the list was drawn (a sync, another operator)."""


class ActionFailed(Message):
    """A domain call raised an error the operator should read."""

    def __init__(self, title: str, detail: str) -> None:
        super().__init__()
        self.title = title
        self.detail = detail


@runtime_checkable
class FollowsQueue(Protocol):
    """A screen that shows what is in the store, told by the app when it changed."""

    def queue_changed(self) -> None:
        """Show the store as it is now (keeping the operator's place)."""
