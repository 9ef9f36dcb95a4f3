"""The question before a public answer while the privacy guard's redirect waits: a reply
there draws eyes to the post that shows the customer's data, so the desk asks first."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

PublicAnswerChoice = Literal["redirect", "anyway"]


class PublicAnswerQuestion(ModalScreen[PublicAnswerChoice | None]):
    """g: carry out the redirect first; a: answer in public anyway (audited); Esc: neither.
    Without a suggested redirect to carry out (the guard has not looked yet), g is not
    offered."""

    BINDINGS = [
        Binding("g", "choose('redirect')", "Redirect first", id="public_answer.redirect",
                tooltip="Carry out the privacy redirect now; answer once it is done"),
        Binding("a", "choose('anyway')", "Answer anyway", id="public_answer.anyway",
                tooltip="Write the public answer now; the choice is audited with your "
                        "initials"),
        Binding("escape", "choose(None)", "Cancel", id="public_answer.cancel",
                tooltip="Neither: back to the conversation"),
    ]
    DEFAULT_CSS = """
    PublicAnswerQuestion { align: center middle; }
    PublicAnswerQuestion > Vertical { width: 76; max-width: 95%; height: auto;
                                      border: thick $warning; padding: 1 2;
                                      background: $surface; }
    PublicAnswerQuestion #public-question { padding: 0 0 1 0; text-style: bold; }
    """

    def __init__(self, types: str, steps: str | None, initials: str) -> None:
        super().__init__()
        self.types = types
        self.steps = steps
        self.initials = initials

    def compose(self) -> ComposeResult:
        offer = "redirect first with g, or answer in public anyway?" if self.steps else \
            "the privacy guard has not looked at it yet. Answer in public anyway?"
        with Vertical():
            yield Static(Text(f"{self.types} shown in public, not redirected yet: {offer}"),
                         id="public-question")
            if self.steps:
                yield Label(Text(f"g  redirect first: {self.steps}; sent at once, audited"))
            yield Label(Text(f"a  answer in public anyway (audited as {self.initials})"))
            yield Label("Esc  neither")

    def action_choose(self, choice: PublicAnswerChoice | None) -> None:
        if choice == "redirect" and not self.steps:
            return
        self.dismiss(choice)
