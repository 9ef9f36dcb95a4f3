"""Newest-first walks over X's billed reads: the stored cursor and the pages of one pass.

Reads only what is new, because every X read is billed: `since_id` for mentions and
stop-at-known-id for DM events, which have no `since_id`. A walk cut short (its page cap, a
rate limit, a crash) resumes on the next pass: each page stores a `WalkCursor` that keeps
the old watermark and says where to go on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from connectors._payload import str_or_none
from connectors.base import InboundItem, PullPage, QuarantinedItem
from connectors.rate_headers import x_rate_limit

log = logging.getLogger(__name__)

RESUME_PREFIX = "walk:"


@dataclass(frozen=True)
class WalkCursor:
    """A stream's stored cursor: its watermark and, while a walk is unfinished, where it resumes.

    The watermark is the `since_id` of mentions and the newest stored event id of DMs; it
    moves only when a walk reaches its end, so nothing between the old watermark and the
    place a walk stopped is ever skipped. `pending` is the newest id the unfinished walk
    has seen (the watermark it will write at its end), `next_token` the page it resumes
    from, `walked` the items walked so far (the 800-mention reach counts the whole walk).
    A plain id is a watermark alone, as every cursor was before walks could resume.
    `recent` is the DM stream's running average of new events per minute and `polled_at`
    when its last walk began (epoch seconds): together they size the next pass's first
    page (`x_dm_pages`); None for mentions and before the first walk ends.
    """

    watermark: str | None
    pending: str | None = None
    next_token: str | None = None
    walked: int = 0
    recent: float | None = None
    polled_at: int | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> WalkCursor:
        """The stored text back as a cursor; an unreadable one walks again from the newest."""
        if cursor is None or not cursor.startswith(RESUME_PREFIX):
            return cls(cursor)
        try:
            data = json.loads(cursor.removeprefix(RESUME_PREFIX))
            recent, polled_at = data.get("recent"), data.get("polled_at")
            return cls(str_or_none(data.get("watermark")), str_or_none(data.get("pending")),
                       str_or_none(data.get("next_token")), int(data.get("walked") or 0),
                       None if recent is None else max(float(recent), 0.0),
                       None if polled_at is None else int(polled_at))
        except (ValueError, TypeError, AttributeError):
            log.warning("unreadable stored X cursor; walking again from the newest item")
            return cls(None)

    def encode(self) -> str:
        if (self.watermark is not None and self.next_token is None and self.pending is None
                and self.recent is None):
            return self.watermark
        data: dict[str, Any] = {"watermark": self.watermark, "pending": self.pending,
                                "next_token": self.next_token, "walked": self.walked}
        if self.recent is not None:
            data["recent"] = round(self.recent, 3)
            data["polled_at"] = self.polled_at
        return RESUME_PREFIX + json.dumps(data, separators=(",", ":"))


class WalkStep(StrEnum):
    """What a walk does after a page."""

    NEXT = "next"
    END = "end"
    CAP = "cap"
    LOOP = "loop"


@dataclass
class Walk:
    """One pass of a newest-first walk: the pages it asked for and the cursor each one stores."""

    start: WalkCursor
    max_requests: int
    token: str | None = None
    pending: str | None = None
    walked: int = 0
    requests: int = 0
    seen: set[str] = field(default_factory=set)
    recent: float | None = None
    polled_at: int | None = None
    """What the finished walk's cursor stores as `WalkCursor.recent` and `polled_at` (set
    by the DM walk)."""

    @classmethod
    def begin(cls, cursor: str | None, max_requests: int) -> Walk:
        """A walk that goes on from the stored resume point, or starts at the newest item."""
        start = WalkCursor.parse(cursor)
        return cls(start, max_requests, start.next_token, start.pending, start.walked,
                   seen={start.next_token} if start.next_token else set(), recent=start.recent,
                   polled_at=start.polled_at)

    @property
    def resuming(self) -> bool:
        """The next request follows a page token stored by an earlier pass."""
        return self.requests == 0 and self.token is not None

    def restart(self) -> None:
        """Walk again from the newest item, keeping the old watermark (X refused the token)."""
        self.token, self.pending, self.walked, self.seen = None, None, 0, set()

    def step(
        self, newest: str | None, count: int, next_token: str | None
    ) -> tuple[WalkStep, str | None]:
        """Count one page; return what the walk does next and the cursor to store with the page.

        The cursor of a page that is not the last keeps the old watermark and says where to
        resume; a repeated token stores the old watermark alone, so the next pass walks again.
        """
        self.requests += 1
        self.walked += count
        self.pending = max_id([self.pending, newest])
        if next_token is None:
            return WalkStep.END, self._final_cursor()
        if next_token in self.seen:
            return WalkStep.LOOP, WalkCursor(self.start.watermark, recent=self.start.recent,
                                             polled_at=self.start.polled_at).encode()
        self.seen.add(next_token)
        self.token = next_token
        cursor = WalkCursor(self.start.watermark, self.pending, next_token, self.walked,
                            self.start.recent, self.start.polled_at).encode()
        kind = WalkStep.CAP if self.requests >= self.max_requests else WalkStep.NEXT
        return kind, cursor

    def _final_cursor(self) -> str | None:
        finished = WalkCursor(max_id([self.pending, self.start.watermark]), recent=self.recent,
                              polled_at=self.polled_at)
        if finished.watermark is None and self.start == WalkCursor(None):
            return None
        return finished.encode()


def walk_page(
    stream: str,
    items: list[InboundItem],
    quarantined: list[QuarantinedItem],
    headers: Mapping[str, str],
    warnings: list[str],
    cursor: str | None,
) -> PullPage:
    """One page of a newest-first walk: only its last page carries the new cursor."""
    return PullPage(stream=stream, items=items, quarantined=quarantined, cursor=cursor,
                    rate_limit=x_rate_limit(headers), warnings=warnings)


def events_newer_than(events: list[Any], cursor: str | None) -> list[Any]:
    """The events before the first known one; the list is newest first."""
    if cursor is None:
        return events
    newer: list[Any] = []
    for event in events:
        event_id = str_or_none(event.get("id")) if isinstance(event, dict) else None
        if event_id is not None and _id_at_or_before(event_id, cursor):
            break
        newer.append(event)
    return newer


def _id_at_or_before(event_id: str, known_id: str) -> bool:
    """Ids are snowflakes: compare as integers when both are digits, else only equality counts."""
    if event_id.isdigit() and known_id.isdigit():
        return int(event_id) <= int(known_id)
    return event_id == known_id


def ids_of(objects: list[Any]) -> list[str | None]:
    """The id of each object, None where it has none."""
    return [str_or_none(o.get("id")) if isinstance(o, dict) else None for o in objects]


def max_id(ids: list[str | None]) -> str | None:
    """The newest of some ids: numeric order for snowflakes, else the first one present."""
    present = [i for i in ids if i]
    if not present:
        return None
    if all(i.isdigit() for i in present):
        return max(present, key=int)
    return present[0]

