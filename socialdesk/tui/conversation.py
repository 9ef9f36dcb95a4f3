"""The conversation screen: the thread in order, the customer card beside it, and the
keys that move it along (status, assignment, notes, reveal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from socialdesk.errors import SocialdeskError
from socialdesk.inbox import reply, send_private
from socialdesk.models import Status
from socialdesk.outbox import send_now
from socialdesk.privacy.mask import mask_text
from socialdesk.queries import (
    ConversationView,
    CustomerCard,
    ThreadMessage,
    conversation_view,
    customer_card,
)
from socialdesk.triage import add_note, assign, reveal, set_status
from socialdesk.tui.composer import ComposerModal, Destination
from socialdesk.tui.modals import NoteModal
from socialdesk.tui.replies import fill, suggest
from socialdesk.tui.text import (
    STATUS_COLOURS,
    channel_label,
    day_time,
    local_time,
    plain,
    safe_line,
    short_duration,
    waiting_since,
)

if TYPE_CHECKING:
    from socialdesk.tui.app import DeskApp

PUBLIC_BANNER = "PUBLIC · everyone can read this"
PRIVATE_BANNER = "PRIVATE · only the customer and us"


class MessageBubble(Static):
    """One message: who wrote it, where, and whether the world can see it, before the text."""

    DEFAULT_CSS = """
    MessageBubble { height: auto; padding: 0 1; margin: 0 0 1 0; }
    MessageBubble.inbound { margin-right: 6; }
    MessageBubble.outbound { margin-left: 6; }
    MessageBubble.public { border: heavy $warning; border-title-color: $warning;
                           border-title-style: bold; }
    MessageBubble.private { border: round $success; border-title-color: $success;
                            border-title-style: bold; }
    """


class ConversationScreen(Screen[None]):
    """One conversation; Escape goes back to the queue."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="conversation.back",
                tooltip="Back to the queue"),
        Binding("1", "status('new')", "New", id="conversation.status_new",
                tooltip="Mark new (red): nobody has looked at it yet"),
        Binding("2", "status('open')", "Open", id="conversation.status_open",
                tooltip="Mark open (yellow): being solved"),
        Binding("3", "status('resolved')", "Resolved", id="conversation.status_resolved",
                tooltip="Mark resolved (green): nothing left to do"),
        Binding("i", "assign_me", "Assign me", id="conversation.assign_me",
                tooltip="Take this conversation (assign it to your initials)"),
        Binding("u", "unassign", "Unassign", id="conversation.unassign",
                tooltip="Give the conversation back to the team"),
        Binding("n", "note", "Note", id="conversation.note",
                tooltip="Leave a note signed with your initials"),
        Binding("v", "reveal", "Reveal", id="conversation.reveal",
                tooltip="Show masked personal data in clear (recorded in the audit log)"),
        Binding("r", "reply", "Reply", id="conversation.reply",
                tooltip="Answer on this conversation's own channel (public stays public)"),
        Binding("p", "reply_private", "Private", id="conversation.reply_private",
                tooltip="Write to the customer privately: X DM, Messenger or private reply"),
    ]
    DEFAULT_CSS = """
    ConversationScreen #summary { height: auto; padding: 0 1; background: $boost; }
    ConversationScreen #thread { width: 2fr; padding: 0 1; }
    ConversationScreen #card { width: 1fr; min-width: 28; border-left: vkey $accent;
                               padding: 0 1; }
    """

    def __init__(self, conversation_id: int) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.view: ConversationView | None = None
        self.revealed: dict[int, str] | None = None

    @property
    def desk_app(self) -> DeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="summary")
        with Horizontal():
            yield VerticalScroll(id="thread")
            with VerticalScroll(id="card"):
                yield Static(id="card-body")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        """Re-read the conversation and its card; called after every action and on changes."""
        desk = self.desk_app.desk
        self.view = conversation_view(desk.engine, self.conversation_id)
        if self.view is None:
            self.query_one("#summary", Static).update(f"Conversation {self.conversation_id} "
                                                      "is not in the store.")
            return
        self.query_one("#summary", Static).update(self._summary(self.view))
        thread = self.query_one("#thread", VerticalScroll)
        thread.remove_children()
        thread.mount_all(self._bubble(message) for message in self.view.messages)
        thread.scroll_end(animate=False)
        card = customer_card(desk.engine, self.view.contact_id) if self.view.contact_id else None
        self.query_one("#card-body", Static).update(render_card(card))

    def _summary(self, view: ConversationView) -> Text:
        colour = STATUS_COLOURS.get(view.status, "white")
        waited = waiting_since(view.status, view.last_inbound_at,
                               view.messages[-1].created_at if view.messages
                               and view.messages[-1].direction == "outbound" else None)
        summary = Text.assemble(
            (f"● {view.status.upper()} ", f"bold {colour}"),
            f"#{view.id} · {channel_label(view.platform, view.channel)} · {view.account} · ",
            ("PUBLIC conversation" if view.visibility == "public" else "PRIVATE conversation",
             "bold"),
            f" · assigned to {view.assignee or 'nobody'}",
        )
        if waited is not None:
            summary.append(f" · waiting {short_duration(self.desk_app.desk.clock() - waited)}",
                           style="bold")
        if self.revealed is not None:
            summary.append(" · personal data REVEALED (audited)", style="bold red")
        return summary

    def _bubble(self, message: ThreadMessage) -> MessageBubble:
        inbound = message.direction == "inbound"
        public = message.visibility == "public"
        text = self._text(message)
        who = (f"{safe_line(message.author_name or '')} @{safe_line(message.author_handle or '?')}"
               if inbound else f"us ({safe_line(message.author_handle or 'brand')})")
        header = Text.assemble(
            ("CUSTOMER → us" if inbound else "us → CUSTOMER", "bold"),
            f"  {who}  {local_time(message.created_at)}",
        )
        if message.has_pii:
            header.append(f"  personal data: {message.pii_types or 'yes'}", style="bold red")
        bubble = MessageBubble(Group(header, plain(text)),
                               classes=" ".join(("inbound" if inbound else "outbound",
                                                 "public" if public else "private")))
        bubble.border_title = PUBLIC_BANNER if public else PRIVATE_BANNER
        bubble.border_subtitle = channel_label(self.view.platform if self.view else "",
                                               message.channel)
        return bubble

    def _text(self, message: ThreadMessage) -> str:
        if self.revealed is not None and message.id in self.revealed:
            return self.revealed[message.id]
        if not message.has_pii:
            return message.text
        return mask_text(message.text, self.desk_app.desk.detector.scan(message.text))

    def _act(self, done: str, action: object, *args: object) -> None:
        """Run one domain action; the screen re-reads the store, errors become a notice."""
        try:
            action(self.desk_app.desk.engine, self.conversation_id, *args)  # type: ignore[operator]
        except SocialdeskError as error:
            self.notify(error.message, title=error.title, severity="error")
            return
        self.notify(done)
        self.refresh_view()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_status(self, status: str) -> None:
        initials = self.desk_app.desk.operator.initials
        self._act(f"Marked {status}", set_status, Status(status), initials)

    def action_assign_me(self) -> None:
        initials = self.desk_app.desk.operator.initials
        self._act(f"Assigned to {initials}", assign, initials, initials)

    def action_unassign(self) -> None:
        self._act("Unassigned", assign, None, self.desk_app.desk.operator.initials)

    def action_note(self) -> None:
        initials = self.desk_app.desk.operator.initials

        def save(note: str | None) -> None:
            if note:
                self._act(f"Note saved, signed {initials}", add_note_as(initials), note)

        self.app.push_screen(NoteModal(initials), save)

    def action_reveal(self) -> None:
        try:
            self.revealed = reveal(self.desk_app.desk.engine, self.conversation_id,
                                   self.desk_app.desk.operator.initials)
        except SocialdeskError as error:
            self.notify(error.message, title=error.title, severity="error")
            return
        self.notify("Personal data shown in clear; the reveal is in the audit log",
                    severity="warning")
        self.refresh_view()


    def action_reply(self) -> None:
        self._open_composer(private=False)

    def action_reply_private(self) -> None:
        if self.view is None or self.view.contact_id is None:
            self.notify("No known customer to write to", severity="error")
            return
        self._open_composer(private=True)

    def _open_composer(self, private: bool) -> None:
        if self.view is None:
            return
        desk = self.desk_app.desk
        view = self.view
        last_inbound = next((m for m in reversed(view.messages) if m.direction == "inbound"),
                            None)
        agent = desk.operator.name or desk.operator.initials
        suggestions = [(saved, fill(saved.text, view.customer, agent)) for saved in
                       suggest(desk.saved_replies, last_inbound.text if last_inbound else "")]
        destination = describe_destination(view, last_inbound, private)

        def send(text: str | None) -> None:
            if text:
                self._queue_answer(private, text)

        self.app.push_screen(ComposerModal(destination, suggestions), send)

    def _queue_answer(self, private: bool, text: str) -> None:
        """Queue through `socialdesk.inbox` (which picks and checks the channel), then send."""
        desk = self.desk_app.desk
        view = self.view
        assert view is not None
        try:
            if private:
                action = send_private(desk.engine, view.contact_id or 0, text,
                                      desk.operator.initials, conversation_id=view.id,
                                      settings=desk.settings)
            else:
                action = reply(desk.engine, view.id, text, desk.operator.initials,
                               settings=desk.settings)
        except SocialdeskError as error:
            self.notify(error.message, title=error.title, severity="error")
            return
        if desk.settings is None:
            self.notify("Answer queued in the outbox; the next sync sends it")
        else:
            self.notify("Answer queued; sending…")
            self.send_queued(action.id or 0)
        self.refresh_view()

    @work(thread=True, exit_on_error=False, group="send")
    def send_queued(self, action_id: int) -> None:
        desk = self.desk_app.desk
        assert desk.settings is not None
        try:
            sent = send_now(desk.engine, desk.settings, action_id)
        except SocialdeskError as error:
            self.app.call_from_thread(self.notify, error.message, title=error.title,
                                      severity="error")
            return
        self.app.call_from_thread(self._sent, sent.state)

    def _sent(self, state: str) -> None:
        self.notify(f"Answer {state}", severity="information" if state == "sent" else "warning")
        self.refresh_view()


def describe_destination(view: ConversationView, last_inbound: ThreadMessage | None,
                         private: bool) -> Destination:
    """In words, where the answer will go: said before sending, never guessed after."""
    handle = f"@{safe_line(last_inbound.author_handle)}" if last_inbound and \
        last_inbound.author_handle else safe_line(view.customer or "the customer")
    channel = channel_label(view.platform, view.channel)
    if not private and view.visibility == "public":
        return Destination(True, f"PUBLIC reply on {channel} to {handle}: everyone can read it")
    if not private:
        return Destination(False, f"PRIVATE message on {channel} to {handle}")
    if view.platform == "x":
        return Destination(False, f"PRIVATE message: X DM to {handle}")
    return Destination(False, f"PRIVATE message on Messenger to {handle} (or Facebook's one "
                              "private reply to their comment when Messenger is closed)")


def add_note_as(initials: str) -> object:
    def call(engine: object, conversation_id: int, note: str) -> int:
        return add_note(engine, conversation_id, initials, note)  # type: ignore[arg-type]

    return call


def render_card(card: CustomerCard | None) -> Group | Text:
    """The customer card: handles, every conversation, notes, what data they exposed."""
    if card is None:
        return Text("No customer card: this conversation has no known author.", style="dim")
    parts: list[Text] = [Text(safe_line(card.display_name or "(no name)"), style="bold")]
    parts.append(Text("Handles", style="bold underline"))
    for handle in card.handles:
        name = f"@{safe_line(handle.username)}" if handle.username else "(no username)"
        parts.append(Text(f"  {'X' if handle.platform == 'x' else 'Facebook'}: {name}"))
    parts.append(Text("Conversations", style="bold underline"))
    for earlier in card.conversations:
        parts.append(Text.assemble(
            ("  ● ", STATUS_COLOURS.get(earlier.status, "white")),
            f"#{earlier.id} {channel_label(earlier.platform, earlier.channel)} "
            f"{earlier.status} {day_time(earlier.last_message_at)}",
        ))
    parts.append(Text("Personal data seen", style="bold underline"))
    parts.append(Text("  " + (", ".join(card.exposed_types) or "none"),
                      style="bold red" if card.exposed_types else "dim"))
    parts.append(Text("Notes", style="bold underline"))
    if not card.notes:
        parts.append(Text("  none yet (n adds one)", style="dim"))
    for note in card.notes:
        parts.append(Text.assemble((f"  {note.initials} ", "bold"),
                                   (day_time(note.created_at), "dim")))
        parts.append(plain(f"    {note.text}"))
    return Group(*parts)
