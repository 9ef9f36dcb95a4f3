"""The composer: says where the answer will go before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, TextArea
from textual.widgets.option_list import Option

from socialdesk.platforms.registry import channel_label, platform_named
from socialdesk.privacy.mask import safe_line
from socialdesk.tui.context import SavedReply

if TYPE_CHECKING:
    from socialdesk.store.queries.conversation import ConversationView, ThreadMessage


@dataclass(frozen=True)
class Destination:
    """Where a reply goes: shown in the composer's title before sending."""

    public: bool
    description: str


def describe_destination(view: ConversationView, last_inbound: ThreadMessage | None,
                         private: bool, private_kind: str | None = None,
                         refused: str | None = None) -> Destination:
    """In words, where the answer will go: said before sending, never guessed after.

    A private answer names `private_kind`, the channel `inbox.private_channel` chose (the one
    `send_private` will use), or says why none is open (`refused`)."""
    handle = f"@{safe_line(last_inbound.author_handle)}" if last_inbound and \
        last_inbound.author_handle else safe_line(view.customer or "the customer")
    channel = channel_label(view.platform, view.channel)
    if not private and view.visibility == "public":
        return Destination(True, f"PUBLIC reply on {channel} to {handle}: everyone can read it")
    if not private:
        return Destination(False, f"PRIVATE message on {channel} to {handle}")
    described = platform_named(view.platform).describe_private(handle, view.channel, private_kind)
    if described is not None:
        return Destination(False, described)
    return Destination(False, f"NO private channel open to {handle}: {refused or '?'}")


class ComposerModal(ModalScreen[str | None]):
    """Write an answer (or pick a saved reply); Ctrl+S sends, Escape drops it."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="composer.send",
                tooltip="Queue the answer on the channel named above and send it"),
        Binding("escape", "cancel", "Cancel", id="composer.cancel",
                tooltip="Close without sending"),
    ]
    DEFAULT_CSS = """
    ComposerModal { align: center middle; }
    ComposerModal > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
                               padding: 0 1; background: $surface; }
    ComposerModal > Vertical.public { border: heavy $warning; }
    ComposerModal > Vertical.private { border: round $success; }
    ComposerModal #destination { width: 1fr; text-style: bold; padding: 0 0 1 0; }
    ComposerModal TextArea { height: 6; }
    ComposerModal OptionList { height: auto; max-height: 6; }
    """

    def __init__(self, destination: Destination, suggestions: list[tuple[SavedReply, str]]
                 ) -> None:
        super().__init__()
        self.destination = destination
        self.suggestions = suggestions

    def compose(self) -> ComposeResult:
        with Vertical(classes="public" if self.destination.public else "private"):
            yield Label(self.destination.description, id="destination")
            yield TextArea(id="answer")
            if self.suggestions:
                yield Label("Saved replies, closest to the customer's message first "
                            "(Enter puts one in the box):")
                yield OptionList(*(Option(f"{reply.name} ({reply.language}): {text}")
                                   for reply, text in self.suggestions), id="saved")
            yield Label("Ctrl+S sends · Esc cancels · Tab moves between box and list")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(OptionList.OptionSelected, "#saved")
    def _use_saved(self, event: OptionList.OptionSelected) -> None:
        area = self.query_one(TextArea)
        area.text = self.suggestions[event.option_index][1]
        area.focus()

    def action_send(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.notify("Nothing to send yet", severity="warning")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
