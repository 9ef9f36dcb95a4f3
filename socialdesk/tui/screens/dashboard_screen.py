"""The dashboard: inbound volume per channel as sparklines, and how fast we answer."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Label, Sparkline, Static

from socialdesk.platforms.registry import any_channel_label
from socialdesk.store.queries.dashboard import DashboardFigures
from socialdesk.tui.messages import DashboardCounted
from socialdesk.tui.widgets.key_hints import KeyHints
from socialdesk.tui.workers import count_dashboard, start_worker

if TYPE_CHECKING:
    from socialdesk.tui.app import DeskApp

DASHBOARD_DAYS = 14


class DashboardScreen(Screen[None]):
    """"Usually responds within …" (seed 003), measured, beside the week's volumes."""

    BINDINGS = [Binding("escape,d", "back", "Back", id="dashboard.back",
                        tooltip="Back to the queue")]
    DEFAULT_CSS = """
    DashboardScreen #figures { height: auto; padding: 1 2; }
    DashboardScreen #volumes { height: auto; }
    DashboardScreen .channel { height: auto; padding: 0 2 1 2; }
    DashboardScreen .channel .total { width: 1fr; text-style: bold; }
    DashboardScreen .channel Horizontal { height: 1; }
    DashboardScreen .channel .day { width: auto; color: $text-muted; }
    DashboardScreen .channel Sparkline { width: 1fr; margin: 0 1; }
    """

    @property
    def desk_app(self) -> DeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dashboard"):
            yield Static(f"Counting the last {DASHBOARD_DAYS} days…", id="figures")
            yield Vertical(id="volumes")
        yield KeyHints()

    def on_mount(self) -> None:
        self.count()

    def queue_changed(self) -> None:
        self.count()

    def count(self) -> None:
        """Off the keyboard's thread: two weeks of a million-message store take a few hundred
        milliseconds to count, and `d` should answer at once (benchmarks/tui.py)."""
        desk = self.desk_app.desk
        start_worker(self, partial(count_dashboard, self, desk.engine, desk.clock(), desk.zone,
                                   DASHBOARD_DAYS), group="dashboard", exclusive=True)

    def on_dashboard_counted(self, event: DashboardCounted) -> None:
        figures = event.figures
        self.query_one("#figures", Static).update(describe_response_times(figures))
        rows = [_channel_volume(channel, counts, figures.days)
                for channel, counts in figures.volumes.items()]
        empty: list[Widget] = [] if figures.volumes else [
            Static(f"No inbound messages in the last {DASHBOARD_DAYS} days.")]
        volumes = self.query_one("#volumes", Vertical)
        volumes.remove_children()  # counted again when the queue changed
        volumes.mount_all([*rows, *empty])

    def action_back(self) -> None:
        self.app.pop_screen()


def _channel_volume(channel: str, counts: list[int], days: list[date]) -> Vertical:
    """One channel's fortnight: its total and scale on a line of their own (beside the
    bars they were cut to "5 in 14 / days" at 80 columns), then the bars between their
    first and last day."""
    return Vertical(
        Label(describe_volume(_label(channel), counts), classes="total"),
        Horizontal(Label(_day(days[0]), classes="day"),
                   Sparkline(counts, summary_function=max),
                   Label(_day(days[-1]), classes="day")),
        classes="channel")


def describe_volume(channel: str, counts: list[int]) -> str:
    """The total, and what the lowest and highest bar stand for: Textual draws the bars
    from the fortnight's lowest day to its highest, so "▁" is not always zero."""
    total = sum(counts)
    messages = f"{total} inbound message{'' if total == 1 else 's'} in {len(counts)} days"
    if min(counts) == max(counts):
        return f"{channel}: {messages} · {max(counts)} every day"
    return f"{channel}: {messages} · ▁ {min(counts)} to █ {max(counts)} a day"


def _day(day: date) -> str:
    return f"{day.day} {day:%b}"


def describe_response_times(figures: DashboardFigures) -> str:
    overdue = (f"Past the first-response SLA now: {figures.overdue} open "
               f"conversation{'' if figures.overdue == 1 else 's'} (l in the queue lists them).\n")
    if figures.first_response_median is None or figures.first_response_p90 is None:
        return (f"{overdue}First response: no conversation opened in the last {DASHBOARD_DAYS} "
                "days has an answer yet.")
    return (f"{overdue}First response over the last {DASHBOARD_DAYS} days "
            f"({figures.answered} conversations answered): "
            f"median {_span(figures.first_response_median)}, "
            f"90% within {_span(figures.first_response_p90)}.")


def _span(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours < 48 else f"{hours // 24} days"


def _label(channel: str) -> str:
    return any_channel_label(channel)
