"""Small modal screens: a one-line note, and the help that lists every key."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Static


class NoteModal(ModalScreen[str | None]):
    """Asks for a note's text; returns it, or None when the operator presses Escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="note.cancel",
                        tooltip="Close without saving")]
    DEFAULT_CSS = """
    NoteModal { align: center middle; }
    NoteModal > Vertical { width: 70; height: auto; border: thick $accent; padding: 1 2;
                           background: $surface; }
    """

    def __init__(self, initials: str) -> None:
        super().__init__()
        self.initials = initials

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Note, signed {self.initials} (Enter saves, Esc cancels)")
            yield Input(placeholder="What the next person should know", id="note-text")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value if event.value.strip() else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """Every key that works on the screen below, with what it does."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close",
                        tooltip="Back to where you were")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 110; height: 90%; border: thick $accent;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(binding_table(self.under))

    def action_close(self) -> None:
        self.dismiss(None)


def binding_table(screen: Screen[object]) -> Table:
    """Key, action name and tooltip of every binding active on `screen`."""
    table = Table(title=f"Keys on this screen ({screen.__class__.__name__.removesuffix('Screen')})",
                  expand=True, show_edge=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("does")
    table.add_column("why / details", style="dim")
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.system:
            continue
        keys = screen.app.get_key_display(binding)
        table.add_row(Text(keys), Text(binding.description or binding.action),
                      Text(binding.tooltip or ""))
    return table
