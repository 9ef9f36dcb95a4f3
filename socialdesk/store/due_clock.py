"""What ingest asks of a first-response clock: due times for the conversations a page
opens, reopens or moves, written in the page's own statements.

Business hours are the service layer's (`socialdesk.service.sla.DueClock`); the store only
asks, so it knows nothing of hours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class DueClock(Protocol):
    """A conversation's first-response clock as a page leaves it."""

    def __call__(self, conversation_id: int, opened_at: datetime | None,
                 started: datetime | None, reopened_at: datetime | None, /
                 ) -> tuple[datetime, datetime] | None:
        """Given a stored conversation's id, `opened_at`, stored `sla_started_at` and the
        time of the inbound message that reopened it (if one did), the new
        `(sla_started_at, first_response_due_at)`, or None to leave both."""

    def opening(self, opened_at: datetime | None, reopened_at: datetime | None, /
                ) -> tuple[datetime, datetime] | None:
        """The same for a conversation the page opens, before it has an id."""

    def opened(self, conversation_id: int, opened_at: datetime | None,
               reopened_at: datetime | None, /) -> None:
        """The id of a conversation `opening` timed, once its INSERT gave it one."""
