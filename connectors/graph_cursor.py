"""What a Graph walk stores with each page: the watermark and the walk under way.

A page cap, a throttle or a crash stops a walk where it stood; the next pull reads the
stored `StreamCursor` and resumes it. The watermark moves only when the walk ends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Link = tuple[str, list[tuple[str, str]]]
"""A Graph request as (canonical URL, query without the token)."""


@dataclass
class WalkState:
    """An unfinished walk: what it reads, where it stands, what it has seen so far."""

    floor: datetime
    """Comments and messages older than this are not read."""
    horizon: datetime | None = None
    """For a list in creation order (the feed): it ends at the first parent created before
    this. None for a list in activity order (conversations): it ends at the first parent
    last active before the floor."""
    top: datetime | None = None
    """The newest `updated_time` of the list when the walk began: whatever is newer moved
    during the walk and is checked once the list is read."""
    at_top: list[str] = field(default_factory=list)
    """The parents last active at `top` itself, read on the first page: the check of the
    top skips them unless they moved, even in a later pull."""
    link: Link | None = None
    """The next list page to read; None before the first page and once the list is read."""
    newest: datetime | None = None
    """The newest item read so far: the watermark once the walk ends."""
    pages: int = 0
    """List pages read, over every pull of this walk."""
    scanning: bool = False
    """The list is read; the top is being checked for parents that moved during the walk."""

    def as_json(self) -> dict[str, Any]:
        return {
            "floor": _iso(self.floor),
            "horizon": _iso(self.horizon),
            "top": _iso(self.top),
            "at_top": self.at_top,
            "link": [self.link[0], [list(pair) for pair in self.link[1]]] if self.link else None,
            "newest": _iso(self.newest),
            "pages": self.pages,
            "scanning": self.scanning,
        }

    @classmethod
    def from_json(cls, data: Any) -> WalkState:
        """Raises ValueError/KeyError/TypeError when the stored walk is unreadable."""
        floor = _time(data["floor"])
        if floor is None:
            raise ValueError("walk without floor")
        link = data.get("link")
        return cls(
            floor=floor,
            horizon=_time(data.get("horizon")),
            top=_time(data.get("top")),
            at_top=[str(parent) for parent in data.get("at_top", [])],
            link=(str(link[0]), [(str(k), str(v)) for k, v in link[1]]) if link else None,
            newest=_time(data.get("newest")),
            pages=int(data.get("pages", 0)),
            scanning=bool(data.get("scanning", False)),
        )


@dataclass
class StreamCursor:
    """`{"watermark": ISO, "walk": {...}}`: the watermark of the last finished walk, and the
    walk under way when one was stopped before its end."""

    watermark: datetime | None
    walk: WalkState | None = None

    def encode(self) -> str:
        value: dict[str, Any] = {"watermark": _iso(self.watermark)}
        if self.walk is not None:
            value["walk"] = self.walk.as_json()
        return json.dumps(value)

    @classmethod
    def decode(cls, text: str | None) -> tuple[StreamCursor, list[str]]:
        """The stored cursor; an unreadable one restarts from the lookback, with a warning."""
        if not text:
            return cls(None), []
        try:
            value = json.loads(text)
            watermark = _time(value["watermark"])
            if value["watermark"] is not None and watermark is None:
                raise ValueError("unreadable watermark")
            walk = WalkState.from_json(value["walk"]) if value.get("walk") else None
        except (ValueError, KeyError, TypeError, IndexError):
            return cls(None), ["stored Facebook cursor was unreadable; re-read the lookback window"]
        return cls(watermark, walk), []


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
