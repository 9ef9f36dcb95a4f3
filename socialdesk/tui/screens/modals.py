"""Small modal screens: a one-line note, a searchable choice, a yes/no question, and the
help that lists every key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from socialdesk.tui.messages import ChoicesFound
from socialdesk.tui.widgets.key_hints import key_rank
from socialdesk.tui.workers import find_choices, start_worker


class NoteModal(ModalScreen[str | None]):
    """Asks for a note's text; returns it, or None when the operator presses Escape (after
    asking, when something was typed: one Esc too many lost a written note)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="note.cancel",
                        tooltip="Close without saving (asks first when the note has text)")]
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
        if not self.query_one("#note-text", Input).value.strip():
            self.dismiss(None)
            return

        def answered(drop: bool | None) -> None:
            if drop:
                self.dismiss(None)

        self.app.push_screen(ConfirmModal("Drop this note? What you typed is not saved."),
                             answered)


@dataclass(frozen=True)
class Choice:
    """One line of a `ChoiceModal`: what is returned, and what the operator reads."""

    value: str
    label: str


class ChoiceModal(ModalScreen[str | None]):
    """Type to narrow the list, Enter takes the first (or highlighted) line, Esc cancels.

    `lookup(text)` gives the lines for what is typed; with `reads_store` it asks the
    store, so it runs in a worker and an Enter typed before its answer waits for it. With
    `free_text`, Enter on typed text that matches no line returns the text itself (new
    initials, say).
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="choice.cancel", tooltip="Close, change nothing"),
        Binding("down", "to_list", "List", show=False, id="choice.list",
                tooltip="Move from the box to the list"),
    ]
    DEFAULT_CSS = """
    ChoiceModal { align: center middle; }
    ChoiceModal > Vertical { width: 80; height: auto; max-height: 90%; border: thick $accent;
                             padding: 0 1; background: $surface; }
    ChoiceModal OptionList { height: auto; max-height: 14; }
    ChoiceModal #choice-title { width: 1fr; }
    ChoiceModal #empty-choice { color: $text-muted; }
    """

    def __init__(self, title: str, lookup: Callable[[str], list[Choice]], *,
                 free_text: bool = False, placeholder: str = "",
                 reads_store: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.lookup = lookup
        self.free_text = free_text
        self.placeholder = placeholder
        self.reads_store = reads_store
        self.choices: list[Choice] = []
        self._looking_up = False
        self._submit_when_found: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="choice-title")  # wraps: never cut at 80 columns
            yield Input(placeholder=self.placeholder, id="choice-text")
            yield OptionList(id="choices")
            yield Label("", id="empty-choice")

    def on_mount(self) -> None:
        self._show("")
        self.query_one(Input).focus()

    def _show(self, text: str) -> None:
        if self.reads_store:
            self._looking_up = True
            start_worker(self, partial(find_choices, self, self.lookup, text), group="lookup",
                         exclusive=True)
            return
        self._list(self.lookup(text))

    def on_choices_found(self, event: ChoicesFound) -> None:
        if event.text != self.query_one(Input).value:
            return  # the answer for an older text: the newer one is on its way
        self._looking_up = False
        self._list(event.choices)
        if self._submit_when_found is not None:
            typed, self._submit_when_found = self._submit_when_found, None
            self._submit(typed)

    def _list(self, choices: list[Choice]) -> None:
        self.choices = choices
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(Option(choice.label, id=str(index))
                            for index, choice in enumerate(self.choices))
        if self.choices:
            options.highlighted = 0
        self.query_one("#empty-choice", Label).update(
            "" if self.choices else "Nothing matches" + (": Enter takes what you typed"
                                                         if self.free_text else ""))

    @on(Input.Changed, "#choice-text")
    def _changed(self, event: Input.Changed) -> None:
        self._show(event.value)

    @on(Input.Submitted, "#choice-text")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._looking_up:
            self._submit_when_found = event.value
            return
        self._submit(event.value)

    def _submit(self, value: str) -> None:
        typed = value.strip()
        exact = next((c for c in self.choices if c.value.lower() == typed.lower()), None)
        if exact is not None:
            self.dismiss(exact.value)
        elif self.free_text and typed and not self.choices:
            self.dismiss(typed)
        elif self.choices:
            highlighted = self.query_one(OptionList).highlighted or 0
            self.dismiss(self.choices[highlighted].value)

    @on(OptionList.OptionSelected, "#choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index].value)

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question about something that cannot be taken back easily."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Go ahead"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Change nothing"),
    ]
    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical { width: 80; height: auto; border: thick $warning; padding: 1 2;
                              background: $surface; }
    ConfirmModal #question { padding: 0 0 1 0; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question), id="question")
            yield Label("y: yes · n or Esc: no")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


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
    bindings = [active.binding for active in screen.active_bindings.values()]
    for binding in sorted(bindings, key=partial(key_rank, screen)):  # most used first
        if binding.system:
            continue
        keys = screen.app.get_key_display(binding)
        table.add_row(Text(keys), Text(binding.description or binding.action),
                      Text(binding.tooltip or ""))
    return table
