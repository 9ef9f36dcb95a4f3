"""The queue list: a virtual Line-API view that draws only the visible rows.

Rows come from `queries.inbox_page` in chunks, keyset-paged (the start key of every chunk
is remembered, so an evicted chunk is re-read by one indexed query) and held in an LRU
cache: a million conversations never sit in memory (toolong's `log_lines.py` pattern).
End counts the rows once and reads the same order backwards from its end, so the last
row of a million is two queries away, not ten thousand pages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from socialdesk.platforms.registry import channel_label
from socialdesk.privacy.detect import Detector
from socialdesk.store.queries.queue import InboxKey, InboxRow
from socialdesk.tui.text import (
    STATUS_COLOURS,
    due_label,
    masked_preview,
    safe_line,
    short_duration,
    sla_running,
    waiting_since,
)

CHUNK_ROWS = 100
CACHED_CHUNKS = 40
"""At most 4,000 rows in memory, whatever the queue's size."""

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
        self._starts: dict[bool, list[InboxKey | None]] = {False: [None], True: [None]}
        self._ended: dict[bool, bool] = {False: False, True: False}
        self._chunks: LRUCache[tuple[bool, int], list[InboxRow]] = LRUCache(CACHED_CHUNKS)
        self._forward_rows = 0
        self.known_rows = 0
        self.complete = False
        self.total: int | None = None

    def row(self, index: int) -> InboxRow | None:
        self.ensure(index)
        if index >= self.known_rows:
            return None
        if self.total is None or index < self._forward_rows:
            return self._row_from(False, index)
        tail_index = self.total - 1 - index
        forward_cost = (index - self._forward_rows) // CHUNK_ROWS
        tail_cost = tail_index // CHUNK_ROWS - (len(self._starts[True]) - 1)
        if forward_cost < tail_cost and not self._ended[False]:
            return self._row_from(False, index)
        return self._row_from(True, tail_index)

    def _row_from(self, reverse: bool, index: int) -> InboxRow | None:
        chunk_number, offset = divmod(index, CHUNK_ROWS)
        while chunk_number >= len(self._starts[reverse]) and not self._ended[reverse]:
            self._chunk(reverse, len(self._starts[reverse]) - 1)
        if chunk_number >= len(self._starts[reverse]):
            return None
        rows = self._chunk(reverse, chunk_number)
        return rows[offset] if offset < len(rows) else None

    def ensure(self, index: int) -> None:
        """Read chunks in order until row `index` is known or the queue ends."""
        while index >= self.known_rows and not self.complete:
            self._chunk(False, len(self._starts[False]) - 1)

    def jump_to_end(self) -> None:
        """Count the rows once, so the last one can be read backwards from the end."""
        if self.complete or self._count is None:
            return
        self.total = self._count()
        self.known_rows = max(self.known_rows, self.total)
        self.complete = True

    def _chunk(self, reverse: bool, chunk_number: int) -> list[InboxRow]:
        rows = self._chunks.get((reverse, chunk_number))
        if rows is not None:
            return rows
        starts = self._starts[reverse]
        rows = self._fetch(starts[chunk_number], CHUNK_ROWS, reverse)
        self._chunks.set((reverse, chunk_number), rows)
        last_chunk = chunk_number == len(starts) - 1
        if last_chunk and len(rows) == CHUNK_ROWS:
            starts.append(rows[-1].key(self._sort))
        elif last_chunk:
            self._ended[reverse] = True
        if not reverse:
            self._forward_rows = max(self._forward_rows, chunk_number * CHUNK_ROWS + len(rows))
            self.known_rows = max(self.known_rows, self._forward_rows)
            self.complete = self.complete or self._ended[False]
        return rows


class ConversationList(ScrollView, can_focus=True, inherit_bindings=False):
    """One line per conversation; Enter opens the one under the cursor."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="queue.up",
                tooltip="Previous conversation"),
        Binding("down,j", "cursor_down", "Down", show=False, id="queue.down",
                tooltip="Next conversation"),
        Binding("pageup", "page_up", "Page up", show=False, id="queue.page_up",
                tooltip="One screen up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="queue.page_down",
                tooltip="One screen down (loads the next rows from the database)"),
        Binding("home", "first", "First", show=False, id="queue.first",
                tooltip="Top of the queue"),
        Binding("end", "last", "Last", show=False, id="queue.last",
                tooltip="Bottom of the queue (counts the rows once, reads the last page)"),
        Binding("enter", "open", "Open", id="queue.open",
                tooltip="Open the conversation under the cursor"),
    ]
    COMPONENT_CLASSES = {"queue--cursor", "queue--dim", "queue--pii"}
    DEFAULT_CSS = """
    ConversationList { height: 1fr; overflow-x: hidden; }
    ConversationList > .queue--cursor { background: $accent 40%; }
    ConversationList > .queue--dim { color: $text-muted; }
    ConversationList > .queue--pii { color: $error; text-style: bold; }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    class Counted(Message):
        """The rows were counted (End): the screen can say how many there are."""

    class Opened(Message):
        """The operator chose a conversation."""

        def __init__(self, conversation_id: int) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    def __init__(self, detector: Detector, clock: Callable[[], datetime],
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._detector = detector
        self._clock = clock
        self._pages: QueuePages | None = None
        self._previews: LRUCache[int, str] = LRUCache(CHUNK_ROWS * 4)

    def show(self, pages: QueuePages, keep_cursor: bool = False) -> None:
        """Replace the rows: the first chunk is read now, the rest as the cursor moves."""
        if keep_cursor and self._pages is not None and self._pages.total is not None:
            pages.jump_to_end()  # the cursor was near the end: keep it reachable
        self._pages = pages
        self._previews.clear()
        pages.ensure(0)
        if not keep_cursor:
            self.cursor = 0
            self.scroll_to(y=0, animate=False)
        self._grow()
        self.cursor = min(self.cursor, max(0, pages.known_rows - 1))
        self.refresh()

    @property
    def row_count(self) -> int:
        return self._pages.known_rows if self._pages else 0

    @property
    def complete(self) -> bool:
        return self._pages.complete if self._pages else True

    @property
    def current(self) -> InboxRow | None:
        return self._pages.row(self.cursor) if self._pages and self.row_count else None

    def _grow(self) -> None:
        """The scrollable height follows the rows known so far. Textual lays out the whole
        screen again when a virtual size changes, a repaint of every widget that was two
        thirds of End's time at a million rows; only a scrollbar appearing or going needs
        that, so otherwise the size is set quietly and the scrollbar updated, as Textual's
        own `_size_updated(layout=False)` does."""
        size = Size(self.size.width, self.row_count)
        if size == self.virtual_size:
            return
        scrollbar_shown = self.show_vertical_scrollbar
        self.set_reactive(Widget.virtual_size, size)
        self._scroll_update(size)
        self.refresh(layout=self.show_vertical_scrollbar != scrollbar_shown)

    def watch_cursor(self, cursor: int) -> None:
        if self._pages is None:
            return
        self._pages.ensure(cursor + self.size.height)
        self._grow()
        self.scroll_to_region(Region(0, cursor, 1, 1), animate=False, immediate=True)
        self.refresh()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._pages is not None:
            self._pages.ensure(int(new) + 2 * self.size.height)
            self._grow()

    def _move(self, delta: int) -> None:
        if self._pages is None or not self.row_count:
            return
        self._pages.ensure(self.cursor + delta)
        self.cursor = max(0, min(self.row_count - 1, self.cursor + delta))

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_page_up(self) -> None:
        self._move(-max(1, self.size.height - 1))

    def action_page_down(self) -> None:
        self._move(max(1, self.size.height - 1))

    def action_first(self) -> None:
        self._move(-self.cursor)

    def action_last(self) -> None:
        if self._pages is None:
            return
        self._pages.jump_to_end()
        self._grow()
        self.post_message(self.Counted())
        self._move(self.row_count - 1 - self.cursor)

    def action_open(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(self.Opened(row.id))

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.size.width
        row = self._pages.row(index) if self._pages and index < self.row_count else None
        if row is None:
            return Strip.blank(width, self.rich_style)
        strip = Strip(self._segments(row, width), width)
        if index == self.cursor:
            strip = strip.apply_style(self.get_component_rich_style("queue--cursor"))
        return strip.crop_extend(0, width, self.rich_style)

    def _segments(self, row: InboxRow, width: int) -> list[Segment]:
        dim = self.get_component_rich_style("queue--dim")
        pii = self.get_component_rich_style("queue--pii")
        colour = Style(color=STATUS_COLOURS.get(row.status, "white"), bold=True)
        customer_width = customer_cells(width)
        fixed = [
            Segment("● ", colour),
            Segment(f"{row.status:<9}", colour),
            Segment(f"{channel_label(row.platform, row.channel):<16}"),
            Segment(_cell(safe_line(row.customer or "(unknown)"), customer_width) + " "),
            self._wait_cell(row, dim, pii),
            Segment(f"{_cell(row.assignee or '-', 4)} ", dim),
            Segment("PII " if row.has_pii else "    ", pii),
        ]
        used = sum(segment.cell_length for segment in fixed)
        preview = _cell(self._preview(row), max(0, width - used))
        return [*fixed, Segment(preview)]

    def _wait_cell(self, row: InboxRow, dim: Style, late_style: Style) -> Segment:
        """How long the customer has waited; while the first-response clock runs, the time
        left (`in 2h`) or how far past the due time (`+3h`, in red)."""
        waited = waiting_since(row.status, row.last_inbound_at, row.last_outbound_at)
        if waited is None:
            return Segment(f"{'-':>{WAIT_CELLS}} ", dim)
        now = self._clock()
        due = row.first_response_due_at
        if due is not None and sla_running(row.status, row.last_outbound_at, row.sla_started_at):
            label, late = due_label(due, now)
            return Segment(f"{label:>{WAIT_CELLS}} ", late_style if late else None)
        return Segment(f"{short_duration(now - waited):>{WAIT_CELLS}} ", dim)

    def _preview(self, row: InboxRow) -> str:
        """The last message, personal data masked, on one line (cached per conversation)."""
        cached = self._previews.get(row.id)
        if cached is None:
            cached = masked_preview(row.preview, self._detector)
            self._previews.set(row.id, cached)
        return cached


def customer_cells(width: int) -> int:
    return 18 if width >= 120 else 12


WAIT_CELLS = 6
"""`12m`, `in 45m`, `+3h`."""


def column_header(width: int) -> str:
    """The titles above the rows, aligned with `_segments`."""
    customer = _cell("customer", customer_cells(width))
    return (f"  {'status':<9}{'channel':<16}{customer} {'wait':>{WAIT_CELLS}} "
            "who  PII  last message")


def _cell(text: str, width: int) -> str:
    """`text` in exactly `width` terminal cells (wide characters counted as two)."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)
