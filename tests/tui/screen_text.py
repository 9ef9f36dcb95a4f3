"""Read what the user sees, as text, from a running desk app."""

from __future__ import annotations

import io

from rich.console import Console

from socialdesk.tui.app import DeskApp
from socialdesk.tui.screens.queue_screen import InboxScreen
from socialdesk.tui.widgets.queue_list import ConversationList


def queue_lines(app: DeskApp) -> list[str]:
    """The queue's visible rows, exactly as drawn."""
    queue = app.screen.query_one(ConversationList)
    return [text for y in range(queue.size.height)
            if (text := queue.render_line(y).text.rstrip())]


def filter_bar(app: DeskApp) -> str:
    assert isinstance(app.screen, InboxScreen)
    from textual.widgets import Static

    return str(app.screen.query_one("#filters", Static).content)


def widget_text(renderable: object, width: int = 200) -> str:
    """A widget's renderable as plain text (what the terminal would show, minus colour)."""
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def screen_text(app: DeskApp) -> str:
    """Every Static on the current screen, as text."""
    from textual.widgets import Static

    return "\n".join(widget_text(static.content) for static in app.screen.query(Static))
