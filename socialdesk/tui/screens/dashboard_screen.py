"""The dashboard: inbound volume per channel as sparklines, and how fast we answer."""

from __future__ import annotations

from datetime import timedelta
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
    DashboardScreen .channel { height: 3; padding: 0 2; }
    DashboardScreen .channel Label { width: 28; }
    DashboardScreen .channel Sparkline { width: 1fr; }
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
        start_worker(self, partial(count_dashboard, self, desk.engine, desk.clock(),
                                   DASHBOARD_DAYS), group="dashboard", exclusive=True)

    def on_dashboard_counted(self, event: DashboardCounted) -> None:
        figures = event.figures
        self.query_one("#figures", Static).update(describe_response_times(figures))
        rows = [Horizontal(Label(f"{_label(channel)}: {sum(counts)} in {DASHBOARD_DAYS} days"),
                           Sparkline(counts, summary_function=max), classes="channel")
                for channel, counts in figures.volumes.items()]
        empty: list[Widget] = [] if figures.volumes else [
            Static(f"No inbound messages in the last {DASHBOARD_DAYS} days.")]
        volumes = self.query_one("#volumes", Vertical)
        volumes.remove_children()  # counted again when the queue changed
        volumes.mount_all([*rows, *empty])

    def action_back(self) -> None:
        self.app.pop_screen()


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
