"""The queue list: a virtual Line-API view that draws only the visible rows.

It draws from memory only; rows it lacks are read by a thread worker (`load_queue_rows`),
drawn blank until `QueueRowsLoaded` arrives, and read a screen ahead of the cursor so that
moving down rarely meets one. See `queue_pages` for how rows are paged and cached.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

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
from socialdesk.privacy.mask import safe_line, stored_preview
from socialdesk.store.queries.queue import InboxRow
from socialdesk.tui.messages import QueueRowsLoaded
from socialdesk.tui.text import (
    STATUS_COLOURS,
    due_label,
    short_duration,
    sla_running,
    waiting_since,
)
from socialdesk.tui.widgets.queue_pages import CHUNK_ROWS, FOLLOW_ROWS, QueuePages
from socialdesk.tui.workers import count_queue_rows, load_queue_rows, start_worker


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
    COMPONENT_CLASSES = {"queue--cursor", "queue--dim", "queue--pii", "queue--late",
                         "queue--here"}
    DEFAULT_CSS = """
    ConversationList { height: 1fr; overflow-x: hidden; }
    ConversationList > .queue--cursor { background: $accent 40%; }
    ConversationList > .queue--dim { color: $text-muted; }
    ConversationList > .queue--pii { color: $text-error; background: $error-muted;
                                     text-style: bold; }
    ConversationList > .queue--late { color: ansi_red; text-style: bold; }
    ConversationList > .queue--here { color: $text-warning; text-style: bold; }
    """
    """Every cell is drawn on the theme's background (a light theme gets light rows) or,
    on the cursor's row, on the cursor's: the highlight spans every column. Past the
    first-response due time is red text; `PII` is a red badge, so the two never look
    alike."""

    cursor: reactive[int] = reactive(0, always_update=True)

    class Counted(Message):
        """The rows were counted (End): the screen can say how many there are."""

    class Opened(Message):
        """The operator chose a conversation."""

        def __init__(self, conversation_id: int) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    def __init__(self, clock: Callable[[], datetime], marks: dict[int, str] | None = None,
                 id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._clock = clock
        self._marks = marks
        """Colleagues on a conversation, by id (`presence_text.presence_marks`); None
        while no other desk is present, and the `now` column is left out."""
        self._pages: QueuePages | None = None
        self._previews: LRUCache[int, str] = LRUCache(CHUNK_ROWS * 4)
        self._wanted: int | None = None
        """Where the cursor goes once the rows up to there are read (keys pressed ahead)."""
        self._missing: set[int] = set()
        """Rows drawn blank because they were not in memory; one worker reads them."""
        self._reading_to: int | None = None
        """The furthest row a read-ahead worker is reading up to."""

    def show(self, pages: QueuePages, keep_cursor: bool = False) -> None:
        """Replace the rows with `pages`, whose first chunk a worker has read; the rest
        are read as the cursor moves. With `keep_cursor` the cursor stays on its
        conversation, not on its row number: rows arriving above it would otherwise put
        another customer under it, and Enter would open them."""
        following = self.current if keep_cursor else None
        self._pages = pages
        self._previews.clear()
        self._missing.clear()
        self._wanted = None
        self._reading_to = None
        if not keep_cursor:
            self.cursor = 0
            self.scroll_to(y=0, animate=False)
        self._grow()
        moved = None if following is None else pages.position_of(following.id, self.cursor,
                                                                 FOLLOW_ROWS)
        self.cursor = moved if moved is not None else min(self.cursor,
                                                          max(0, pages.known_rows - 1))
        self.refresh()

    def set_marks(self, marks: dict[int, str] | None) -> None:
        """Who has which conversation open now (None: nobody else is at a desk); redrawn
        without reading the store."""
        if marks != self._marks:
            self._marks = marks
            self.refresh()

    @property
    def team(self) -> bool:
        """Whether the `now` column is drawn: another desk is present."""
        return self._marks is not None

    @property
    def counted(self) -> bool:
        """Whether End counted the rows: a reload keeps them counted, so the cursor near
        the end stays reachable."""
        return self._pages is not None and self._pages.total is not None

    @property
    def row_count(self) -> int:
        return self._pages.known_rows if self._pages else 0

    @property
    def complete(self) -> bool:
        return self._pages.complete if self._pages else True

    @property
    def current(self) -> InboxRow | None:
        return self._pages.cached_row(self.cursor) if self._pages and self.row_count else None

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

    def _read_ahead(self, index: int) -> None:
        """Have a worker read up to row `index` unless it is known (or the queue ends), or
        a read that far is already on its way (a held-down `j` asks at every row)."""
        if self._pages is None or index < self.row_count or self.complete:
            return
        if self._reading_to is not None and self._reading_to >= index:
            return
        self._reading_to = index
        self._load([index])

    def _load(self, indices: list[int]) -> None:
        assert self._pages is not None
        start_worker(self, partial(load_queue_rows, self, self._pages, indices),
                     group="queue-rows")

    def on_queue_rows_loaded(self, event: QueueRowsLoaded) -> None:
        if event.pages is not self._pages:
            return  # rows of a filter no longer shown
        if self._reading_to is not None and self._reading_to < self.row_count:
            self._reading_to = None
        self._grow()
        if event.counted:
            self.post_message(self.Counted())
            self._wanted = self.row_count - 1
        if self._wanted is not None:
            wanted, self._wanted = self._wanted, None
            self.cursor = max(0, min(self.row_count - 1, wanted))
        self.refresh()

    def watch_cursor(self, cursor: int) -> None:
        if self._pages is None:
            return
        self._read_ahead(cursor + self.size.height)
        self.scroll_to_region(Region(0, cursor, 1, 1), animate=False, immediate=True)
        self.refresh()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self._pages is not None:
            self._read_ahead(int(new) + 2 * self.size.height)

    def _move(self, delta: int) -> None:
        """Move the cursor; past the rows read so far, it goes there once they are."""
        if self._pages is None or not self.row_count:
            return
        target = max(0, (self.cursor if self._wanted is None else self._wanted) + delta)
        if target >= self.row_count and not self.complete:
            self._wanted = target
            self._read_ahead(target)
            return
        self._wanted = None
        self.cursor = min(self.row_count - 1, target)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_page_up(self) -> None:
        self._move(-max(1, self.size.height - 1))

    def action_page_down(self) -> None:
        self._move(max(1, self.size.height - 1))

    def action_first(self) -> None:
        self._wanted = None
        self._move(-self.cursor)

    def action_last(self) -> None:
        if self._pages is None:
            return
        if self.complete:
            self._wanted = None
            self._move(self.row_count - 1 - self.cursor)
            return
        start_worker(self, partial(count_queue_rows, self, self._pages), group="queue-count",
                     exclusive=True)

    def action_open(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(self.Opened(row.id))

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.size.width
        row = self._pages.cached_row(index) if self._pages and index < self.row_count else None
        if row is None:
            if self._pages is not None and index < self.row_count:
                self._draw_later(index)
            return Strip.blank(width, self.rich_style)
        base = (self.get_component_rich_style("queue--cursor") if index == self.cursor
                else self.rich_style)
        return Strip(self._segments(row, width, base), width).crop_extend(0, width, base)

    def _draw_later(self, index: int) -> None:
        """A row not in memory (evicted, or between the top and the counted end): drawn
        blank now, read by one worker for every such row of this frame."""
        if not self._missing:
            self.call_later(self._load_missing)
        self._missing.add(index)

    def _load_missing(self) -> None:
        missing = sorted(self._missing)
        self._missing.clear()
        if missing and self._pages is not None:
            self._load(missing)

    def _segments(self, row: InboxRow, width: int, base: Style) -> list[Segment]:
        """The row's cells, each style laid over `base` (the row's background)."""
        dim, late = self._over(base, "queue--dim"), self._over(base, "queue--late")
        colour = base + Style(color=STATUS_COLOURS.get(row.status, "white"), bold=True)
        customer_width = customer_cells(width)
        fixed = [
            Segment("● ", colour),
            Segment(f"{row.status:<9}", colour),
            Segment(f"{channel_label(row.platform, row.channel):<16}", base),
            Segment(_cell(safe_line(row.customer or "(unknown)"), customer_width) + " ", base),
            self._wait_cell(row, dim, late, base),
            Segment(f"{_cell(row.assignee or '-', 4)} ", dim),
            *self._presence_cell(row, base),
            Segment("PII", self._over(base, "queue--pii"))
            if row.has_pii else Segment("   ", base),
            Segment(" ", base),
        ]
        used = sum(segment.cell_length for segment in fixed)
        preview = _cell(self._preview(row), max(0, width - used))
        return [*fixed, Segment(preview, base)]

    def _presence_cell(self, row: InboxRow, base: Style) -> list[Segment]:
        """`AB` has it open, `AB✎` is answering it: bold in the theme's warning colour.
        No cell at all while nobody else is at a desk: one manager keeps the columns."""
        if self._marks is None:
            return []
        mark = self._marks.get(row.id)
        if mark is None:
            return [Segment(" " * (PRESENCE_CELLS + 1), base)]
        return [Segment(f"{_cell(mark, PRESENCE_CELLS)} ", self._over(base, "queue--here"))]

    def _over(self, base: Style, component: str) -> Style:
        """`component`'s colours over `base`: its own background if it has one (the `PII`
        badge), else the row's. Colours come from the full style, where a translucent
        one ($text-muted) is already blended with the theme's background."""
        full = self.get_component_rich_style(component)
        own = self.get_component_rich_style(component, partial=True)
        return base + Style(color=full.color, bgcolor=full.bgcolor if own.bgcolor else None,
                            bold=own.bold)

    def _wait_cell(self, row: InboxRow, dim: Style, late_style: Style, base: Style) -> Segment:
        """How long the customer has waited; while the first-response clock runs, the time
        left (`in 2h`) or how far past the due time (`+3h`, in red)."""
        waited = waiting_since(row.status, row.last_inbound_at, row.last_outbound_at)
        if waited is None:
            return Segment(f"{'-':>{WAIT_CELLS}} ", dim)
        now = self._clock()
        due = row.first_response_due_at
        if due is not None and sla_running(row.status, row.last_outbound_at, row.sla_started_at):
            label, late = due_label(due, now)
            return Segment(f"{label:>{WAIT_CELLS}} ", late_style if late else base)
        return Segment(f"{short_duration(now - waited):>{WAIT_CELLS}} ", dim)

    def _preview(self, row: InboxRow) -> str:
        """The last message on one line, personal data masked with the spans stored at
        ingest, as the reports mask it (cached per conversation)."""
        cached = self._previews.get(row.id)
        if cached is None:
            cached = stored_preview(row.preview, row.preview_spans)
            self._previews.set(row.id, cached)
        return cached


def customer_cells(width: int) -> int:
    return 18 if width >= 120 else 12


WAIT_CELLS = 6
"""`12m`, `in 45m`, `+3h`."""

PRESENCE_CELLS = 4
"""`AB✎`, `LB+`: initials longer than three letters are cut (`ABC…`)."""


def column_header(width: int, team: bool = False) -> str:
    """The titles above the rows, aligned with `_segments`; `now` with `team`."""
    customer = _cell("customer", customer_cells(width))
    now = f"{'now':<{PRESENCE_CELLS}} " if team else ""
    return (f"  {'status':<9}{'channel':<16}{customer} {'wait':>{WAIT_CELLS}} "
            f"who  {now}PII  last message")


def _cell(text: str, width: int) -> str:
    """`text` in exactly `width` terminal cells (wide characters counted as two)."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)
