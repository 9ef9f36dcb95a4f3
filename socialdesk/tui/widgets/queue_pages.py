"""The queue's rows by position: keyset-paged chunks in an LRU cache, read by workers.

Rows come from `queries.inbox_page` in chunks, keyset-paged (the start key of every chunk
is remembered, so an evicted chunk is re-read by one indexed query) and held in an LRU
cache: a million conversations never sit in memory (toolong's `log_lines.py` pattern).
End counts the rows once and reads the same order backwards from its end, so the last
row of a million is two queries away, not ten thousand pages.

Two sides share one `QueuePages`: the event loop draws from memory only (`cached_row`),
and thread workers read the store (`row`, `jump_to_end`). A lock guards the cache and
the chunk keys; it is never held while a query runs, so drawing never waits on a read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.cache import LRUCache

from socialdesk.store.queries.queue import InboxKey, InboxRow

CHUNK_ROWS = 100
CACHED_CHUNKS = 40
"""At most 4,000 rows in memory, whatever the queue's size."""
FOLLOW_ROWS = CHUNK_ROWS // 2
"""How far from its old row a reload looks for the conversation under the cursor: new
arrivals between two polls push it down a few rows, an answer moves it to the top. Half a
chunk, so a cursor near the top costs the reload no second chunk."""

PageFetcher = Callable[[InboxKey | None, int, bool], list[InboxRow]]
"""(after, limit, reverse): the rows after `after`, walking backwards with `reverse`."""


class QueuePages:
    """Rows by position, fetched chunk by chunk with keyset queries.

    Forward chunks are numbered from the top. Once `jump_to_end` has counted the rows,
    tail chunks are numbered from the bottom (row `total - 1` is the first row of tail
    chunk 0); a row between the two is read from whichever side needs fewer queries.
    """

    def __init__(self, fetch: PageFetcher, sort: str,
                 count: Callable[[], int] | None = None) -> None:
        self._fetch = fetch
        self._sort = sort
        self._count = count
        self._lock = threading.Lock()
        self._starts: dict[bool, list[InboxKey | None]] = {False: [None], True: [None]}
        self._ended: dict[bool, bool] = {False: False, True: False}
        self._chunks: LRUCache[tuple[bool, int], list[InboxRow]] = LRUCache(CACHED_CHUNKS)
        self._forward_rows = 0
        self.known_rows = 0
        self.complete = False
        self.total: int | None = None

    def cached_row(self, index: int) -> InboxRow | None:
        """Row `index` if it is in memory; None when a worker must `load` it first."""
        with self._lock:
            return self._row(index, read=False)

    def row(self, index: int) -> InboxRow | None:
        """Row `index`, read from the store if need be (the chunks before it too): in a
        worker, never on the event loop."""
        self.ensure(index)
        return self._row(index, read=True)

    def _row(self, index: int, read: bool) -> InboxRow | None:
        if index >= self.known_rows:
            return None
        if self.total is None or index < self._forward_rows:
            return self._row_from(False, index, read)
        tail_index = self.total - 1 - index
        forward_cost = (index - self._forward_rows) // CHUNK_ROWS
        tail_cost = tail_index // CHUNK_ROWS - (len(self._starts[True]) - 1)
        if forward_cost < tail_cost and not self._ended[False]:
            return self._row_from(False, index, read)
        return self._row_from(True, tail_index, read)

    def _row_from(self, reverse: bool, index: int, read: bool) -> InboxRow | None:
        chunk_number, offset = divmod(index, CHUNK_ROWS)
        while chunk_number >= len(self._starts[reverse]) and not self._ended[reverse]:
            if not read:
                return None
            self._chunk(reverse, len(self._starts[reverse]) - 1)
        if chunk_number >= len(self._starts[reverse]):
            return None
        rows = self._chunk(reverse, chunk_number) if read else \
            self._chunks.get((reverse, chunk_number))
        return rows[offset] if rows is not None and offset < len(rows) else None

    def ensure(self, index: int) -> None:
        """Read chunks in order until row `index` is known or the queue ends (a worker)."""
        while index >= self.known_rows and not self.complete:
            self._chunk(False, len(self._starts[False]) - 1)

    def read_around(self, index: int, reach: int) -> None:
        """Read the rows within `reach` of row `index` (a worker), for `position_of`."""
        for near in range(max(0, index - reach), index + reach + 1, CHUNK_ROWS):
            self.row(near)
        self.row(index + reach)

    def position_of(self, conversation_id: int, index: int, reach: int) -> int | None:
        """Where the conversation is among the rows in memory within `reach` of row
        `index`, the nearest first; None when it is not there (filtered out, or moved
        further than `reach`)."""
        with self._lock:
            for distance in range(reach + 1):
                for near in (index - distance, index + distance):
                    row = self._row(near, read=False) if near >= 0 else None
                    if row is not None and row.id == conversation_id:
                        return near
        return None

    def jump_to_end(self) -> None:
        """Count the rows once, so the last one can be read backwards from the end (a
        worker)."""
        if self.complete or self._count is None:
            return
        total = self._count()
        with self._lock:
            self.total = total
            self.known_rows = max(self.known_rows, total)
            self.complete = True

    def _chunk(self, reverse: bool, chunk_number: int) -> list[InboxRow]:
        """The chunk from the cache, or read (outside the lock) and stored. Two workers
        may read the same chunk; the second store changes nothing."""
        with self._lock:
            rows = self._chunks.get((reverse, chunk_number))
            start = self._starts[reverse][chunk_number]
        if rows is not None:
            return rows
        rows = self._fetch(start, CHUNK_ROWS, reverse)
        with self._lock:
            self._store(reverse, chunk_number, rows)
        return rows

    def _store(self, reverse: bool, chunk_number: int, rows: list[InboxRow]) -> None:
        self._chunks.set((reverse, chunk_number), rows)
        starts = self._starts[reverse]
        last_chunk = chunk_number == len(starts) - 1
        if last_chunk and len(rows) == CHUNK_ROWS:
            starts.append(rows[-1].key(self._sort))
        elif last_chunk:
            self._ended[reverse] = True
        if not reverse:
            self._forward_rows = max(self._forward_rows, chunk_number * CHUNK_ROWS + len(rows))
            self.known_rows = max(self.known_rows, self._forward_rows)
            self.complete = self.complete or self._ended[False]
