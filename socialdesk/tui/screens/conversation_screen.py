"""The conversation screen: the thread in order, the customer card beside it, and the
keys that move it along (triage keys in `triage_keys`, answers in `answer_keys`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from socialdesk.tui.messages import ConversationContent, ConversationLoaded
from socialdesk.tui.presence_text import presence_line
from socialdesk.tui.screens.answer_keys import AnswerKeys
from socialdesk.tui.screens.triage_keys import TriageKeys
from socialdesk.tui.widgets.conversation_thread import (
    MessageBubble,
    conversation_summary,
    message_bubble,
)
from socialdesk.tui.widgets.customer_card import render_card
from socialdesk.tui.widgets.key_hints import KeyHints

if TYPE_CHECKING:
    from socialdesk.tui.presence_text import Colleagues

STATUS_KEYS = Binding.Group("Status")
"""`1 2 3 Status` on the key line: one entry for the three statuses."""


class ConversationScreen(AnswerKeys, TriageKeys):
    """One conversation; Escape goes back to the queue. Built on a conversation a worker
    has read (`ConversationContent`): the screen itself never waits on the store."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="conversation.back",
                tooltip="Back to the queue"),
        Binding("1", "status('new')", "New", id="conversation.status_new",
                group=STATUS_KEYS,
                tooltip="Mark new (red): nobody has looked at it yet"),
        Binding("2", "status('open')", "Open", id="conversation.status_open",
                group=STATUS_KEYS,
                tooltip="Mark open (yellow): being solved"),
        Binding("3", "status('resolved')", "Resolved", id="conversation.status_resolved",
                group=STATUS_KEYS,
                tooltip="Mark resolved (green): nothing left to do"),
        Binding("i", "assign_me", "Assign me", id="conversation.assign_me",
                tooltip="Take this conversation (assign it to your initials)"),
        Binding("u", "unassign", "Unassign", id="conversation.unassign",
                tooltip="Give the conversation back to the team"),
        Binding("n", "note", "Note", id="conversation.note",
                tooltip="Leave a note signed with your initials"),
        Binding("v", "reveal", "Reveal", id="conversation.reveal",
                tooltip="Show masked personal data in clear (recorded in the audit log); "
                        "v again masks it"),
        Binding("r", "reply", "Reply", id="conversation.reply",
                tooltip="Answer on this conversation's own channel (public stays public)"),
        Binding("p", "reply_private", "Private", id="conversation.reply_private",
                tooltip="Write to the customer privately: a direct message or a private reply"),
        Binding("a", "assign_to", "Assign to", id="conversation.assign_to",
                tooltip="Give the conversation to a colleague: type or pick their initials"),
        Binding("h", "hide", "Hide", id="conversation.hide",
                tooltip="Hide the customer's public message on the platform, or unhide it "
                        "(asks which one when there are several; audited)"),
        Binding("m", "merge", "Merge", id="conversation.merge",
                tooltip="Same person on another platform? Pick their other contact and fold "
                        "it into this card (audited)"),
        Binding("c", "verify", "Verified", id="conversation.verify",
                tooltip="Record that you confirmed who the customer is, and how (audited)"),
        Binding("g", "redirect", "Redirect", id="conversation.redirect",
                tooltip="Carry out the privacy guard's suggested redirect: hide, write "
                        "privately, point to it in public"),
        Binding("t", "take_next", "Take next", id="conversation.take", show=False,
                tooltip="Show the next longest-waiting conversation nobody has taken, within "
                        "the queue's filters (the one you took before goes back to the team)"),
        Binding("o", "history", "History", id="conversation.history",
                tooltip="Open another of this customer's conversations, on any channel "
                        "(Esc comes back here)"),
    ]
    KEY_LINE = ("conversation.reply", "conversation.reply_private", "conversation.redirect",
                "conversation.hide", "conversation.status_new", "conversation.status_open",
                "conversation.status_resolved", "conversation.note", "conversation.take",
                "conversation.assign_me", "conversation.back", "conversation.assign_to",
                "conversation.verify", "conversation.history", "conversation.reveal",
                "conversation.merge", "conversation.unassign")
    """The key line's order, most used first: at 80 columns it shows up to Note, and `?`."""
    DEFAULT_CSS = """
    ConversationScreen #summary { height: auto; padding: 0 1; background: $boost; }
    ConversationScreen #colleagues { display: none; height: auto; padding: 0 1;
                                     background: $boost; color: $text-warning;
                                     text-style: bold; }
    ConversationScreen #colleagues.-active { display: block; }
    ConversationScreen #thread { width: 2fr; padding: 0 1; }
    ConversationScreen #card { width: 1fr; min-width: 28; border-left: vkey $accent;
                               padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        """Composed with the conversation already read, so the screen is laid out and
        painted once with it: filling it in after mounting cost a layout and a repaint per
        part (Enter at a million messages, benchmarks/tui.py)."""
        summary, card = self._describe()
        yield Static(summary, id="summary")
        yield self._colleagues_line(Static(id="colleagues"))
        with Horizontal():
            yield VerticalScroll(*self._bubbles(), id="thread")
            with VerticalScroll(id="card"):
                yield Static(card, id="card-body")
        yield KeyHints()

    def on_mount(self) -> None:
        self.query_one("#thread", VerticalScroll).scroll_end(animate=False, immediate=True)

    def queue_changed(self) -> None:
        self.refresh_view()

    def presence_changed(self, colleagues: Colleagues) -> None:
        """`AB is answering this` under the summary, or nothing."""
        self._colleagues_line(self.query_one("#colleagues", Static), colleagues)

    def _colleagues_line(self, line: Static, colleagues: Colleagues | None = None) -> Static:
        """`line` saying which colleagues are on this conversation (as last heard of)."""
        said = presence_line(colleagues or self.desk_app.heartbeats.colleagues,
                             self.conversation_id)
        line.update(Text(said))
        line.set_class(bool(said), "-active")
        return line

    def action_take_next(self) -> None:
        self.desk_app.take_next()

    def on_conversation_loaded(self, event: ConversationLoaded) -> None:
        if self.fresh(event):
            self.content = event.content
            self._fill()

    async def show(self, content: ConversationContent) -> None:
        """Another conversation in this screen, in place of the one shown: the desk keeps
        one screen for the queue's Enter, as a new one cost a compose and two layouts per
        Enter (benchmarks/tui.py). Returns once the new thread is mounted, so the screen is
        never shown with the last customer's messages."""
        self._generation += 1  # a read of the last conversation still in flight is dropped
        self.content = content
        self.revealed = None
        self.reveal_pending = False
        self.query_one("#card", VerticalScroll).scroll_home(animate=False, immediate=True)
        await self._fill()

    def _fill(self) -> AwaitComplete:
        summary, card = self._describe()
        thread = self.query_one("#thread", VerticalScroll)
        removed = thread.remove_children()
        mounted = thread.mount_all(self._bubbles())
        thread.scroll_end(animate=False)
        self.query_one("#card-body", Static).update(card)
        self.query_one("#summary", Static).update(summary)
        self._colleagues_line(self.query_one("#colleagues", Static))
        return AwaitComplete(removed, mounted)

    def _describe(self) -> tuple[Text | str, Group | Text | str]:
        """(summary line, card) of the conversation as last read."""
        if self.view is None:
            return f"Conversation {self.conversation_id} is not in the store.", ""
        desk = self.desk_app.desk
        return (conversation_summary(self.view, desk.clock(), self.suggestions,
                                     self.revealed is not None, desk.zone),
                render_card(self.card, desk.zone))

    def _bubbles(self) -> list[MessageBubble]:
        view = self.view
        zone = self.desk_app.desk.zone
        return [message_bubble(message, self.text_of(message), view.platform, zone)
                for message in view.messages] if view else []

    def action_back(self) -> None:
        self.app.pop_screen()
