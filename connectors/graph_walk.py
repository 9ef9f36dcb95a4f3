"""A Graph walk over a Page's list (its feed, its conversations), kept in the stream's cursor.

Conversations are listed newest activity first: one that gets a message while the list is
walked jumps to the top, behind the walk, and the walk never meets it; its older messages
would be skipped and the watermark would pass them. So a walk remembers where the list's top
stood when it began, and once the list is read it checks the top again for what moved
meanwhile. The feed is listed by creation, so nothing moves; its walk reaches back to a
horizon and reads the comments of the posts active since the floor. Every page stored
carries the walk's state, so a page cap, a throttle or a crash stops the walk where it
stood and the next pull resumes it; the watermark moves only when the walk ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from connectors._payload import aware_time, data_list
from connectors.base import FatalAPIError, InboundItem, PullPage, QuarantinedItem, WalkIncomplete
from connectors.graph_cursor import Link, StreamCursor, WalkState

_NESTED_LIMIT = re.compile(r"\.limit\(\d+\)")


@dataclass
class Sizes:
    """How much one request asks for: list entries per page and the nested edge's limit.

    Graph answers a request it finds too heavy with code 1 "Please reduce the amount of
    data you're asking for"; the same request fails again, so the walk halves both.
    """

    page: int
    nested: int | None = None

    def halved(self) -> Sizes | None:
        """Half of each size, or None when both are already 1 (nothing left to shrink)."""
        if self.page <= 1 and (self.nested is None or self.nested <= 1):
            return None
        nested = None if self.nested is None else max(1, self.nested // 2)
        return Sizes(max(1, self.page // 2), nested)

    def apply(self, link: Link, *, listing: bool = True) -> Link:
        """The link asking for these sizes: its `limit` (a list's, not a single object's)
        and every nested `.limit(n)`."""
        url, query = link
        sized: list[tuple[str, str]] = []
        for key, value in query:
            if key == "limit" and listing:
                value = str(self.page)
            elif key == "fields" and self.nested is not None:
                value = _NESTED_LIMIT.sub(f".limit({self.nested})", value)
            sized.append((key, value))
        if listing and not any(key == "limit" for key, _ in query):
            sized.append(("limit", str(self.page)))
        return url, sized

    def describe(self) -> str:
        nested = f" with {self.nested} nested each" if self.nested is not None else ""
        return f"{self.page} per page{nested}"


# --- the walk ---------------------------------------------------------------------------

MAX_SCAN_ROUNDS = 5
"""Checks of the list's top after the walk; each round after the first runs only when the
one before needed more than one page (people kept writing while it was read)."""
SCAN_PAGE_SIZE = 100
"""Graph's largest page: one request, one consistent view of what moved."""
RESCAN_OVERLAP = timedelta(minutes=5)
"""A parent read earlier in the walk is re-read from this much before its last activity."""


@dataclass
class PageBuilder:
    """Collects one API page's items while comments and messages are walked.

    `emitted` is shared by the pages of one pull: Graph pages can repeat objects (a
    recorded `/posts` page 2 repeats page 1), and each item should reach the store once.
    """

    emitted: set[str]
    items: list[InboundItem] = field(default_factory=list)
    quarantined: list[QuarantinedItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, parsed: InboundItem | QuarantinedItem) -> None:
        if isinstance(parsed, QuarantinedItem):
            self.quarantined.append(parsed)
        elif parsed.external_id not in self.emitted:
            self.emitted.add(parsed.external_id)
            self.items.append(parsed)


class GraphReads(Protocol):
    """What a walk needs from the connector: requests, paging links and finished pages."""

    def sized_get(self, link: Link, sizes: Sizes, what: str, *, listing: bool = True,
                  ) -> tuple[dict[str, Any], Mapping[str, str], Sizes]: ...

    def follow(self, body: Mapping[str, Any], seen: set[str], what: str) -> Link | None: ...

    def finish_page(self, stream: str, page: PageBuilder, headers: Mapping[str, str],
                    cursor: StreamCursor) -> PullPage: ...


@dataclass(frozen=True)
class ListSource:
    """One list to walk: the feed's posts or the conversations, and how a parent is read.

    `collect(parent, floor, page)` adds the parent's comments or messages down to `floor`
    (and the parent itself when it is an item); `single(parent_id)` is the link that reads
    one parent with the same fields.
    """

    stream: str
    what: str
    first: Link
    scan: Link | None
    """The light listing that checks the top after the walk; None for a list in creation
    order, where nothing moves."""
    collect: Callable[[Mapping[str, Any], datetime, PageBuilder], None]
    single: Callable[[str], Link]
    sizes: Sizes

    @property
    def moving(self) -> bool:
        """A list in activity order: parents move to its top while it is read."""
        return self.scan is not None


@dataclass
class ListWalk:
    """One pull of a list, resumed from the stored cursor when a walk was under way."""

    source: ListSource
    reads: GraphReads
    cursor: StreamCursor
    walk: WalkState
    page_cap: int
    warnings: list[str] = field(default_factory=list)
    emitted: set[str] = field(default_factory=set)
    read_at: dict[str, datetime] = field(default_factory=dict)
    """The activity time each parent had when this pull read it."""
    sizes: Sizes | None = None

    def pages(self) -> Iterator[PullPage]:
        """The list's pages, then the checks of its top; raises WalkIncomplete at the cap."""
        self.sizes = self.sizes or self.source.sizes
        seen: set[str] = set()
        followed = 0
        while not self.walk.scanning:
            if followed >= self.page_cap:
                raise WalkIncomplete(
                    f"Graph {self.source.what}: stopped after {followed} pages (the cap of one "
                    "pull); what was read is stored and the next pull goes on from there")
            followed += 1
            yield self._list_page(seen)
        if self.source.moving and self.walk.pages > 1:
            yield from self._scan()

    def _list_page(self, seen: set[str]) -> PullPage:
        link = self.walk.link or self.source.first
        body, headers = self._get(link)
        entries = data_list(body)
        first = self.walk.top is None
        if first:
            self.walk.top = _first_activity(entries)
        page = self._builder()
        reached_floor = self._read_parents(entries, page)
        if first and self.walk.top is not None:
            self.walk.at_top = [parent for parent, active in self.read_at.items()
                                if active == self.walk.top]
        following = self.reads.follow(body, seen, self.source.what)
        self.walk.pages += 1
        self.walk.newest = _latest(self.walk.newest, page.items)
        if reached_floor or not entries or following is None:
            self.walk.scanning, self.walk.link = True, None
        else:
            self.walk.link = following
        ended = self.walk.scanning and (self.walk.pages <= 1 or not self.source.moving)
        return self._finish(page, headers, ended)

    def _scan(self) -> Iterator[PullPage]:
        """Re-list the top until one consistent page shows nothing moved that is unread."""
        threshold = self.walk.top
        if threshold is not None:
            for parent in self.walk.at_top:
                self.read_at.setdefault(parent, threshold)
        for _ in range(MAX_SCAN_ROUNDS):
            link = self.source.scan
            seen: set[str] = set()
            pages, round_top = 0, None
            while link is not None:
                body, headers = self._get(link, sizes=Sizes(SCAN_PAGE_SIZE))
                entries = data_list(body)
                pages += 1
                round_top = round_top or _first_activity(entries)
                page = self._builder()
                reached = self._reread_moved(entries, page, threshold)
                following = self.reads.follow(body, seen, self.source.what)
                link = None if reached or not entries else following
                self.walk.newest = _latest(self.walk.newest, page.items)
                yield self._finish(page, headers, ended=link is None and pages == 1)
            if pages == 1:
                return
            threshold = round_top
        raise WalkIncomplete(
            f"Graph {self.source.what}: people kept writing faster than the walk could check; "
            "what was read is stored and the next pull checks again")

    def _read_parents(self, entries: list[Any], page: PageBuilder) -> bool:
        """Read each parent active since the floor; True once the rest of the list is older
        than the walk needs (past the horizon, or, in activity order, past the floor)."""
        floor, horizon = self.walk.floor, self.walk.horizon
        for entry in entries:
            parent_id, active = _parent_identity(entry)
            created = graph_time(entry.get("created_time")) if isinstance(entry, dict) else None
            if horizon is not None and created is not None and created < horizon:
                return True
            if parent_id is not None and active is not None and active < floor:
                if horizon is None:
                    return True
                continue
            self._read_one(entry, parent_id, active, page)
        return False

    def _reread_moved(
        self, entries: list[Any], page: PageBuilder, threshold: datetime | None
    ) -> bool:
        """Read the parents that moved since this pull read them, or that it never met."""
        for entry in entries:
            parent_id, active = _parent_identity(entry)
            if parent_id is None or active is None:
                continue
            if threshold is not None and active < threshold:
                return True
            if parent_id in self.read_at and active <= self.read_at[parent_id]:
                continue
            try:
                body, _ = self._get(self.source.single(parent_id), listing=False)
            except FatalAPIError as gone:
                page.warnings.append(f"{self.source.what} {parent_id} could not be read "
                                     f"again: {gone}")
                continue
            self._read_one(body, parent_id, active, page)
        return False

    def _read_one(
        self, entry: Any, parent_id: str | None, active: datetime | None, page: PageBuilder
    ) -> None:
        if not isinstance(entry, dict):
            page.add(QuarantinedItem(reason=f"{self.source.what} entry is not an object",
                                     raw={"value": entry}))
            return
        floor = self.walk.floor
        if parent_id is not None and parent_id in self.read_at:
            if active is not None and active <= self.read_at[parent_id]:
                return
            floor = max(floor, self.read_at[parent_id] - RESCAN_OVERLAP)
        self.source.collect(entry, floor, page)
        if parent_id is not None and active is not None:
            self.read_at[parent_id] = active

    def _get(
        self, link: Link, *, sizes: Sizes | None = None, listing: bool = True
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        body, headers, used = self.reads.sized_get(
            link, sizes or self.sizes or self.source.sizes, self.source.what, listing=listing)
        if sizes is None and used != self.sizes:
            self.sizes = used
            self.warnings.append(f"Graph asked for less data: {self.source.what} now read "
                                 f"{used.describe()}")
        return body, headers

    def _builder(self) -> PageBuilder:
        page = PageBuilder(self.emitted, warnings=self.warnings)
        self.warnings = []
        return page

    def _finish(self, page: PageBuilder, headers: Mapping[str, str], ended: bool) -> PullPage:
        """The page with the cursor to store beside it: the new watermark once the walk ended,
        else the old watermark and the walk's state, so a stop resumes here."""
        cursor = (StreamCursor(self.walk.newest) if ended
                  else StreamCursor(self.cursor.watermark, self.walk))
        return self.reads.finish_page(self.source.stream, page, headers, cursor)


def _first_activity(entries: list[Any]) -> datetime | None:
    times = [active for _, active in map(_parent_identity, entries) if active is not None]
    return max(times) if times else None


def _parent_identity(entry: Any) -> tuple[str | None, datetime | None]:
    """A post's or conversation's id and last activity (`updated_time`, else `created_time`)."""
    if not isinstance(entry, dict):
        return None, None
    raw_id = entry.get("id")
    parent_id = str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(
        raw_id, bool) else None
    active = graph_time(entry.get("updated_time")) or graph_time(entry.get("created_time"))
    return parent_id, active


def graph_time(value: Any) -> datetime | None:
    """Graph's `2021-02-12T16:27:12+0000` as aware UTC, or None when unreadable."""
    return aware_time(value)


def _latest(current: datetime | None, items: list[InboundItem]) -> datetime | None:
    times = [item.created_at for item in items]
    if current is not None:
        times.append(current)
    return max(times) if times else None
