"""The composer: says where the answer will go before anything is sent, counts as the
channel counts while you type, and hands back what was typed however it closes, so a
refused or interrupted answer is never lost (the conversation keeps it as a draft)."""

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
from textual.worker import get_current_worker

from socialdesk.platforms.registry import channel_label, platform_named, text_count
from socialdesk.privacy.mask import safe_line
from socialdesk.tui.context import SavedReply
from socialdesk.tui.messages import TypingChanged

if TYPE_CHECKING:
    from socialdesk.store.queries.conversation import ConversationView, ThreadMessage


@dataclass(frozen=True)
class Destination:
    """Where a reply goes: shown in the composer's title before sending."""

    public: bool
    description: str
    platform: str = ""
    """Whose rule counts the text (the registry's name); empty: plain characters, no limit."""
    kind: str = "reply"
    """The outbox kind the answer becomes, which sets the limit (an X post, a Messenger
    message...)."""


@dataclass(frozen=True)
class Composed:
    """How the composer closed: `send` with Ctrl+S, else closed (Esc) or dropped
    (Ctrl+L, `text` empty). The text is the draft either way."""

    text: str
    send: bool = False


def count(destination: Destination, text: str) -> tuple[int, int | None, str]:
    """(length as the channel counts it, its limit, how it counts) for the live counter."""
    if not destination.platform:
        return len(text), None, ""
    return text_count(destination.platform, destination.kind, text)


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
        return Destination(True, f"PUBLIC reply on {channel} to {handle}: everyone can read it",
                           view.platform, "reply")
    if not private:
        return Destination(False, f"PRIVATE message on {channel} to {handle}", view.platform,
                           "direct_message")
    kind = private_kind or "direct_message"
    described = platform_named(view.platform).describe_private(handle, view.channel, private_kind)
    if described is not None:
        return Destination(False, described, view.platform, kind)
    return Destination(False, f"NO private channel open to {handle}: {refused or '?'}",
                       view.platform, kind)


class ComposerModal(ModalScreen[Composed]):
    """Write an answer (or pick a saved reply); Ctrl+S sends, Esc closes keeping the draft,
    Ctrl+L drops it. The counter under the box counts as the channel does."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="composer.send",
                tooltip="Queue the answer on the channel named above and send it"),
        Binding("escape", "cancel", "Close", id="composer.cancel",
                tooltip="Close without sending; the draft waits for the next r or p here"),
        Binding("ctrl+l", "drop", "Drop draft", id="composer.drop",
                tooltip="Close and throw the draft away"),
    ]
    DEFAULT_CSS = """
    ComposerModal { align: center middle; }
    ComposerModal > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
                               padding: 0 1; background: $surface; }
    ComposerModal > Vertical.public { border: heavy $warning; }
    ComposerModal > Vertical.private { border: round $success; }
    ComposerModal #destination { width: 1fr; text-style: bold; padding: 0 0 1 0; }
    ComposerModal TextArea { height: 6; }
    ComposerModal #counter { color: $text-muted; }
    ComposerModal #counter.over { color: $error; text-style: bold; }
    ComposerModal OptionList { height: auto; max-height: 6; }
    """

    def __init__(self, destination: Destination, suggestions: list[tuple[SavedReply, str]],
                 draft: str = "") -> None:
        super().__init__()
        self.destination = destination
        self.suggestions = suggestions
        self.draft = draft
        self._has_text = bool(draft.strip())

    @property
    def has_text(self) -> bool:
        """Whether an answer is being written: colleagues see `✎` on the conversation."""
        return self._has_text

    def compose(self) -> ComposeResult:
        with Vertical(classes="public" if self.destination.public else "private"):
            yield Label(self.destination.description, id="destination")
            yield TextArea(self.draft, id="answer")
            yield Label(self._counter_text(self.draft) if not self.destination.platform
                        else "", id="counter")
            if self.suggestions:
                yield Label("Saved replies, closest to the customer's message first "
                            "(Enter puts one in the box):")
                yield OptionList(*(Option(f"{reply.name} ({reply.language}): {text}")
                                   for reply, text in self.suggestions), id="saved")
            yield Label("Ctrl+S sends · Esc closes, keeps the draft · Ctrl+L drops it · "
                        "Tab: box/list")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)
        if self.destination.platform:
            # X's counting library compiles its patterns on first use: off the loop.
            self.run_worker(self._first_count, thread=True, group="count")

    def _first_count(self) -> None:
        text = self.draft
        counted = self._counter_text(text)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_count, counted, self._over(text))

    @on(TextArea.Changed, "#answer")
    def _count(self, event: TextArea.Changed) -> None:
        text = event.text_area.text
        self._show_count(self._counter_text(text), self._over(text))
        if bool(text.strip()) != self._has_text:
            self._has_text = not self._has_text
            self.post_message(TypingChanged())

    def _show_count(self, counted: str, over: bool) -> None:
        counter = self.query_one("#counter", Label)
        counter.update(counted)
        counter.set_class(over, "over")

    def _counter_text(self, text: str) -> str:
        length, limit, note = count(self.destination, text.strip())
        if limit is None:
            return f"{length} characters"
        if length > limit:
            return f"{length} / {limit}{note}: {length - limit} too many"
        return f"{length} / {limit}{note}"

    def _over(self, text: str) -> bool:
        length, limit, _ = count(self.destination, text.strip())
        return limit is not None and length > limit

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
        self.dismiss(Composed(text, send=True))

    def action_cancel(self) -> None:
        self.dismiss(Composed(self.query_one(TextArea).text))

    def action_drop(self) -> None:
        self.dismiss(Composed(""))
