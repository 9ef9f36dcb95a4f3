"""The inbox screen: the queue, its filters and search."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from socialdesk.platforms.registry import any_channel_label
from socialdesk.store.models import Status
from socialdesk.store.queries.queue import (
    SEARCH_MATCH_LIMIT,
    SORT_NEWEST,
    SORT_WAITING,
    UNASSIGNED,
    InboxChoices,
    InboxFilter,
)
from socialdesk.tui.messages import (
    AccountHealthRead,
    InboxChoicesLoaded,
    QueuePageLoaded,
    SearchLimitChecked,
)
from socialdesk.tui.presence_text import Colleagues, presence_marks
from socialdesk.tui.widgets.key_hints import KeyHints
from socialdesk.tui.widgets.queue_list import ConversationList, column_header
from socialdesk.tui.workers import (
    check_search_limit,
    load_inbox_choices,
    load_queue_page,
    read_account_health,
    start_worker,
    warm_filters,
)

if TYPE_CHECKING:
    from socialdesk.tui.app import DeskApp

Value = TypeVar("Value")

STATUS_CYCLE: list[Status | None] = [None, Status.NEW, Status.OPEN, Status.RESOLVED]


class InboxScreen(Screen[None]):
    """Every conversation, newest or longest-waiting first, filtered from the keyboard."""

    BINDINGS = [
        Binding("t", "take_next", "Take next", id="inbox.take",
                tooltip="Open the longest-waiting conversation nobody has taken, within these "
                        "filters; it is yours until you resolve it or quit"),
        Binding("slash", "search", "Search", id="inbox.search",
                tooltip="Full-text search in every message; the queue shows the "
                        f"conversations of the newest {SEARCH_MATCH_LIMIT:,} matches"),
        Binding("s", "cycle_status", "Status", id="inbox.status",
                tooltip="Show all / new / open / resolved"),
        Binding("c", "cycle_channel", "Channel", id="inbox.channel",
                tooltip="Show one channel at a time: X mention, X DM, FB comment, ..."),
        Binding("a", "cycle_account", "Account", id="inbox.account",
                tooltip="Show one account at a time"),
        Binding("m", "toggle_mine", "Mine", id="inbox.mine",
                tooltip="Only conversations assigned to me"),
        Binding("w", "cycle_assignee", "Who", id="inbox.assignee",
                tooltip="Who has it: everyone's / unassigned / each person with conversations"),
        Binding("p", "toggle_pii", "Personal data", id="inbox.pii",
                tooltip="Only conversations with personal data in a public message"),
        Binding("l", "toggle_overdue", "Late", id="inbox.overdue",
                tooltip="Only conversations waiting longer than the first-response SLA"),
        Binding("o", "toggle_sort", "Order", id="inbox.sort",
                tooltip="Newest activity first, or longest-waiting unresolved first"),
        Binding("x", "clear_filters", "Clear", id="inbox.clear",
                tooltip="Remove every filter and the search"),
        Binding("d", "dashboard", "Dashboard", id="inbox.dashboard",
                tooltip="Volumes per channel and first-response times"),
    ]
    KEY_LINE = ("queue.open", "inbox.search", "inbox.status", "inbox.mine", "inbox.overdue",
                "inbox.take", "inbox.pii", "inbox.channel", "inbox.assignee", "inbox.clear",
                "inbox.sort", "inbox.account", "inbox.dashboard")
    """The key line's order, most used first (see `KeyHints`)."""
    AUTO_FOCUS = "#queue"
    """Not Textual's first focusable widget: that is the hidden search box, which swallows
    printable keys, so the first frame's key line lacked `?` and every letter key."""
    DEFAULT_CSS = """
    InboxScreen #filters { height: auto; padding: 0 1; background: $boost; }
    InboxScreen #search { height: 3; display: none; }
    InboxScreen #search.-active { display: block; }
    InboxScreen #columns { height: 1; padding: 0 0; color: $text-muted; text-style: bold; }
    InboxScreen #empty { display: none; padding: 1 2; color: $text-muted; }
    InboxScreen #health { display: none; color: $error; text-style: bold; }
    InboxScreen #health.-active { display: block; }
    InboxScreen #empty.-active { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.inbox_filter = InboxFilter()
        self._choices: InboxChoices | None = None
        self._search_capped: bool | None = None
        """Whether the search hit its match limit; asked only once a count is shown."""
        self._generation = 0
        """Counts reloads: a page read for an older filter is dropped when it arrives."""
        self._drawn = False
        self._filter_lines = 0
        """How many lines the filter summary took when last drawn (`_show_filters`)."""

    @property
    def desk_app(self) -> DeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        desk = self.desk_app.desk
        yield Static(id="health")
        yield Static(id="filters")
        yield Input(placeholder="Search messages, then Enter (Esc closes it and clears the "
                                "search)", id="search")
        yield Static(id="columns")
        yield Static(id="empty")  # above the list, which takes the rest of the screen
        yield ConversationList(desk.clock, _marks(self.desk_app.heartbeats.colleagues),
                               id="queue")
        yield KeyHints()  # help first: Textual's Footer was cut before `?` at 80 columns

    def on_mount(self) -> None:
        self.reload()
        self.show_health()
        self.warm_filters()
        if self.desk_app.desk.poll_seconds:
            self.set_interval(self.desk_app.desk.poll_seconds, self.show_health)

    def warm_filters(self) -> None:
        """Read each view a single key switches to once, after the first screen. The first
        switch otherwise paid for a cold page cache: about 100 ms at a million messages,
        twice the later ones, and End 130 to 210 ms with the store out of the OS cache
        (benchmarks/tui.py)."""
        views = [InboxFilter()] + [InboxFilter(status=status) for status in STATUS_CYCLE if status]
        views += [InboxFilter(overdue=True), InboxFilter(sort=SORT_WAITING)]
        desk = self.desk_app.desk
        start_worker(self, partial(warm_filters, desk.engine, views, desk.clock()),
                     group="warm", exclusive=True)

    def show_health(self) -> None:
        """A red line per account whose sync needs a human, until a sync succeeds again."""
        start_worker(self, partial(read_account_health, self, self.desk_app.desk.engine),
                     group="health", exclusive=True)

    def on_account_health_read(self, event: AccountHealthRead) -> None:
        line = self.query_one("#health", Static)
        line.update(Text("\n".join(f"⚠ {name}: {reason} (run `socialdesk doctor`)"
                                   for name, reason in event.unhealthy)))
        line.set_class(bool(event.unhealthy), "-active")

    def on_resize(self) -> None:
        self._show_columns()
        if self._drawn:
            self._show_filters()  # a narrower screen may wrap it onto another line

    @property
    def queue(self) -> ConversationList:
        return self.query_one(ConversationList)

    def queue_changed(self) -> None:
        self.reload(keep_cursor=True)

    def presence_changed(self, colleagues: Colleagues) -> None:
        """Who has which conversation open, in the `now` column, there while another
        desk is."""
        team = self.queue.team
        self.queue.set_marks(_marks(colleagues))
        if self.queue.team != team:
            self._show_columns()

    def _show_columns(self) -> None:
        self.query_one("#columns", Static).update(column_header(self.size.width,
                                                                self.queue.team))

    def action_take_next(self) -> None:
        self.desk_app.take_next()

    def reload(self, keep_cursor: bool = False) -> None:
        """Have a worker read the first page for the current filter (later pages load as
        the cursor moves); the rows shown stay until it arrives."""
        self._generation += 1
        desk = self.desk_app.desk
        now = desk.clock()  # one instant per reload: pages stay consistent
        start_worker(self, partial(load_queue_page, self, desk.engine, self.inbox_filter, now,
                                   self._generation, self.queue.cursor if keep_cursor else None,
                                   keep_cursor and self.queue.counted),
                     group="queue", exclusive=True)

    def on_queue_page_loaded(self, event: QueuePageLoaded) -> None:
        if event.generation != self._generation:
            return  # a page of a filter the operator has already left
        self._search_capped = None
        first, self._drawn = not self._drawn, True
        self.queue.show(event.pages, keep_cursor=event.keep_cursor)
        self._show_empty()
        self._show_filters()
        if first:  # the desk's first page: now the app prepares what its keys lead to
            self.desk_app.call_after_refresh(self.desk_app.load_the_rest)

    def on_search_limit_checked(self, event: SearchLimitChecked) -> None:
        if event.generation == self._generation:
            self._search_capped = event.capped
            self._show_filters()

    def _show_filters(self) -> None:
        """The summary above the queue, wrapped rather than cut when it is wider than the
        screen. Laid out again only when its number of lines changes: a layout repaints
        every widget, a third of End's time at a million rows (benchmarks/tui.py)."""
        summary = Text(self._describe())  # never markup: it holds the search as typed
        width = max(1, self.size.width - 2)  # the bar spans the screen, padding 0 1
        lines = len(summary.wrap(self.app.console, width))
        self.query_one("#filters", Static).update(summary, layout=lines != self._filter_lines)
        self._filter_lines = lines

    def _describe(self) -> str:
        """The count, then only the filters in force (an unfiltered queue says so), the
        order, and how to clear: every default spelled out took 90 columns."""
        current = self.inbox_filter
        filters = [
            f"status {current.status}" if current.status else "",
            f"channel {_channel_name(current.channel)}" if current.channel else "",
            f"account {current.account}" if current.account else "",
            self._who(current.assignee),
            "personal data in public only" if current.has_pii else "",
            "past the SLA" if current.overdue else "",
            f"search “{current.search}”" if current.search else "",
        ]
        shown = [part for part in filters if part]
        order = "longest waiting first" if current.sort == SORT_WAITING else "newest first"
        parts = [self._count(), *(shown or ["no filter"]), order,
                 "x clears" if shown else ""]
        return " · ".join(part for part in parts if part)

    def _show_empty(self) -> None:
        """Where the list is empty, say why and how to get the conversations back."""
        empty = self.query_one("#empty", Static)
        nothing = self.queue.row_count == 0
        empty.set_class(nothing, "-active")
        if nothing:
            empty.update(Text(_empty_message(self.inbox_filter)))

    def _count(self) -> str:
        """The number of conversations, `+` while not all are read; a search that hit its
        limit says so, or the count would read as every match's."""
        rows = self.queue.row_count
        if not self.queue.complete:
            return f"{rows}+ conversations"
        count = f"{rows} conversation{'' if rows == 1 else 's'}"
        if self._search_capped is None and self.inbox_filter.search:
            self._search_capped = False  # until the worker says: asked once per reload
            start_worker(self, partial(check_search_limit, self, self.desk_app.desk.engine,
                                       self.inbox_filter.search, self._generation),
                         group="search-limit")
        if self._search_capped:
            count += f" in the newest {SEARCH_MATCH_LIMIT:,} matches"
        return count

    def _who(self, assignee: str | None) -> str:
        if assignee is None:
            return ""
        if assignee == UNASSIGNED:
            return "unassigned"
        if assignee == self.desk_app.desk.operator.initials:
            return "mine"
        return f"assigned to {assignee}"

    def _set(self, **changes: Any) -> None:
        self.inbox_filter = replace(self.inbox_filter, **changes)
        self.reload()

    def _with_choices(self, cycle: str, fresh: bool = False) -> None:
        """Cycle a filter through the store's choices, read by a worker the first time (or
        every time, with `fresh`)."""
        if self._choices is not None and not fresh:
            self._cycle(cycle, self._choices)
            return
        start_worker(self, partial(load_inbox_choices, self, self.desk_app.desk.engine, cycle),
                     group="choices")

    def on_inbox_choices_loaded(self, event: InboxChoicesLoaded) -> None:
        self._choices = event.choices
        self._cycle(event.cycle, event.choices)

    def _cycle(self, cycle: str, choices: InboxChoices) -> None:
        if cycle == "channel":
            channels: list[str | None] = [None, *(c for _, c in choices.channels)]
            self._set(channel=_next(channels, self.inbox_filter.channel))
        elif cycle == "account":
            accounts: list[str | None] = [None, *choices.accounts]
            self._set(account=_next(accounts, self.inbox_filter.account))
        else:
            who: list[str | None] = [None, UNASSIGNED, *choices.assignees]
            self._set(assignee=_next(who, self.inbox_filter.assignee))

    def action_cycle_status(self) -> None:
        self._set(status=_next(STATUS_CYCLE, self.inbox_filter.status))

    def action_cycle_channel(self) -> None:
        self._with_choices("channel")

    def action_cycle_account(self) -> None:
        self._with_choices("account")

    def action_toggle_mine(self) -> None:
        mine = self.desk_app.desk.operator.initials
        self._set(assignee=None if self.inbox_filter.assignee == mine else mine)

    def action_cycle_assignee(self) -> None:
        """Everyone's, unassigned, then each person. The choices are read again at every
        press: colleagues take conversations while the desk is open."""
        self._with_choices("assignee", fresh=True)

    def action_toggle_pii(self) -> None:
        self._set(has_pii=not self.inbox_filter.has_pii)

    def action_toggle_overdue(self) -> None:
        self._set(overdue=not self.inbox_filter.overdue)

    def action_toggle_sort(self) -> None:
        self._set(sort=SORT_NEWEST if self.inbox_filter.sort == SORT_WAITING else SORT_WAITING)

    def action_clear_filters(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        search.remove_class("-active")
        self.inbox_filter = InboxFilter()
        self.reload()

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.add_class("-active")
        search.focus()

    def action_dashboard(self) -> None:
        self.desk_app.action_dashboard()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._set(search=event.value.strip())
        self.queue.focus()

    def key_escape(self) -> None:
        """Esc closes the search bar, from the bar or from the list, and drops the search:
        an open bar otherwise stayed on screen with no key to close it from the list."""
        search = self.query_one("#search", Input)
        if not (search.has_class("-active") or self.inbox_filter.search):
            return
        search.remove_class("-active")
        search.value = ""
        self.queue.focus()
        if self.inbox_filter.search:
            self._set(search="")

    @on(ConversationList.Counted)
    def _counted(self) -> None:
        self._show_filters()

    @on(ConversationList.Opened)
    def _open(self, event: ConversationList.Opened) -> None:
        self.desk_app.open_conversation(event.conversation_id)


def _marks(colleagues: Colleagues) -> dict[int, str] | None:
    """The `now` column's marks; None (no column) while no other desk is present."""
    return presence_marks(colleagues) if colleagues.desks else None


def _next(values: list[Value], current: Value) -> Value:
    index = values.index(current) if current in values else 0
    return values[(index + 1) % len(values)]


def _empty_message(shown: InboxFilter) -> str:
    """What an empty list means, and the key that brings the conversations back."""
    if shown.search and replace(shown, search="") == InboxFilter(sort=shown.sort):
        return (f"No message matches “{shown.search}”. Press Esc to clear the search, "
                "or / to search again.")
    if replace(shown, search="") != InboxFilter(sort=shown.sort):
        return ("No conversation matches these filters. Press x to clear them all"
                + (" (Esc clears only the search)." if shown.search else "."))
    return "No conversation yet: `socialdesk sync` fetches them from the accounts."


def _channel_name(channel: str | None) -> str:
    if channel is None:
        return "all"
    return any_channel_label(channel)
