"""The conversation screen: the thread in order, the customer card beside it, and the
keys that move it along (status, assignment, notes, reveal, hide, merge, verification,
the privacy redirect)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from socialdesk.clock import Clock
from socialdesk.desk.answers import hide, private_channel, reply, send_private
from socialdesk.desk.identity import (
    VERIFICATION_METHODS,
    account_data_warning,
    verify_contact,
)
from socialdesk.desk.outbox import send_now
from socialdesk.desk.triage import add_note, assign, merge_contacts, reveal, set_status
from socialdesk.errors import SocialdeskError
from socialdesk.platforms.registry import channel_label
from socialdesk.privacy.guard import accept_suggestion, pending_suggestions
from socialdesk.privacy.mask import mask_text
from socialdesk.store.models import OutboxAction, PrivacyExposure, Status
from socialdesk.store.queries.card import (
    ContactChoice,
    CustomerCard,
    customer_card,
    customer_previews,
    merge_candidates,
)
from socialdesk.store.queries.conversation import ConversationView, ThreadMessage, conversation_view
from socialdesk.store.queries.queue import known_assignees
from socialdesk.tui.saved_replies import fill, suggest
from socialdesk.tui.screens.modals import Choice, ChoiceModal, ConfirmModal, NoteModal
from socialdesk.tui.text import (
    STATUS_COLOURS,
    due_label,
    local_time,
    plain,
    safe_line,
    short_duration,
    sla_running,
    waiting_since,
)
from socialdesk.tui.widgets.composer import ComposerModal, describe_destination
from socialdesk.tui.widgets.customer_card import (
    customer_label,
    describe_contact,
    history_label,
    rank_candidates,
    render_card,
)
from socialdesk.tui.widgets.key_hints import KeyHints

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
                tooltip="Write to the customer privately: a direct message or a private reply"),
        Binding("a", "assign_to", "Assign to", id="conversation.assign_to",
                tooltip="Give the conversation to a colleague: type or pick their initials"),
        Binding("h", "hide", "Hide/unhide", id="conversation.hide",
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
        Binding("o", "history", "History", id="conversation.history",
                tooltip="Open another of this customer's conversations, on any channel "
                        "(Esc comes back here)"),
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
        self.card: CustomerCard | None = None
        self.suggestions: list[PrivacyExposure] = []
        self.revealed: dict[int, str] | None = None

    @property
    def desk_app(self) -> DeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        """The first view is read here, so the screen is laid out and painted once with it:
        filling it in after mounting cost a layout and a repaint per part (Enter at a
        million messages, benchmarks/tui.py)."""
        summary, card = self._read_view()
        yield Static(summary, id="summary")
        with Horizontal():
            yield VerticalScroll(*self._bubbles(), id="thread")
            with VerticalScroll(id="card"):
                yield Static(card, id="card-body")
        yield KeyHints()

    def on_mount(self) -> None:
        self.query_one("#thread", VerticalScroll).scroll_end(animate=False, immediate=True)

    def queue_changed(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        """Re-read the conversation and its card; called after every action and on changes."""
        self._fill(*self._read_view())

    async def show(self, conversation_id: int) -> None:
        """Another conversation in this screen, in place of the one shown: the desk keeps
        one screen for the queue's Enter, as a new one cost a compose and two layouts per
        Enter (benchmarks/tui.py). Returns once the new thread is mounted, so the screen is
        never shown with the last customer's messages."""
        self.conversation_id = conversation_id
        self.revealed = None
        self.query_one("#card", VerticalScroll).scroll_home(animate=False, immediate=True)
        await self._fill(*self._read_view())

    def _fill(self, summary: Text | str, card: Group | Text | str) -> AwaitComplete:
        thread = self.query_one("#thread", VerticalScroll)
        removed = thread.remove_children()
        mounted = thread.mount_all(self._bubbles())
        thread.scroll_end(animate=False)
        self.query_one("#card-body", Static).update(card)
        self.query_one("#summary", Static).update(summary)
        return AwaitComplete(removed, mounted)

    def _read_view(self) -> tuple[Text | str, Group | Text | str]:
        """The conversation, its card and pending suggestions: (summary line, card)."""
        engine = self.desk_app.desk.engine
        self.view = conversation_view(engine, self.conversation_id)
        if self.view is None:
            return f"Conversation {self.conversation_id} is not in the store.", ""
        self.card = customer_card(engine, self.view.contact_id) if self.view.contact_id else None
        self.suggestions = pending_suggestions(engine, self.conversation_id)
        return self._summary(self.view), render_card(self.card)

    def _bubbles(self) -> list[MessageBubble]:
        return [self._bubble(message) for message in self.view.messages] if self.view else []

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
        now = self.desk_app.desk.clock()
        if waited is not None:
            summary.append(f" · waiting {short_duration(now - waited)}", style="bold")
        if waited is not None and view.first_response_due_at is not None and sla_running(
                view.status, view.last_outbound_at, view.sla_started_at):
            label, late = due_label(view.first_response_due_at, now)
            summary.append(" · first response " + ("overdue by " + label.removeprefix("+")
                                                   if late else "due " + label),
                           style="bold red" if late else "bold")
        if self.suggestions:
            types = ", ".join(sorted({t for s in self.suggestions for t in s.types.split(",")}))
            summary.append(f" · {types} in public: redirect suggested (g)", style="bold red")
        if self.revealed is not None:
            summary.append(" · personal data REVEALED (audited)", style="bold red")
        return summary

    def _bubble(self, message: ThreadMessage) -> MessageBubble:
        inbound = message.direction == "inbound"
        public = message.visibility == "public"
        text = self._text(message)
        who = (customer_label(message.author_name, message.author_handle) if inbound
               else f"us ({safe_line(message.author_handle or 'brand')})")
        header = Text.assemble(
            ("CUSTOMER → us" if inbound else "us → CUSTOMER", "bold"),
            f"  {who}  {local_time(message.created_at)}",
        )
        if message.has_pii:
            header.append(f"  personal data: {message.pii_types or 'yes'}", style="bold red")
        moderation = message.moderation
        if moderation is not None:
            header.append(f"  {moderation_label(moderation.kind, moderation.state)}",
                          style="bold yellow")
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
            action(self.desk_app.desk.engine, self.conversation_id, *args,  # type: ignore[operator]
                   now=self.desk_app.desk.clock)
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
                                   self.desk_app.desk.operator.initials,
                                   now=self.desk_app.desk.clock)
        except SocialdeskError as error:
            self.notify(error.message, title=error.title, severity="error")
            return
        self.notify("Personal data shown in clear; the reveal is in the audit log",
                    severity="warning")
        self.refresh_view()

    def action_assign_to(self) -> None:
        desk = self.desk_app.desk
        known = [desk.operator.initials]
        if desk.settings is not None:
            known += [desk.settings.operator.initials, *desk.settings.reports.unmask_operators]
        known += known_assignees(desk.engine)
        offered = list(dict.fromkeys(known))

        def lookup(text: str) -> list[Choice]:
            typed = text.strip().lower()
            return [Choice(initials, initials + (" (you)" if initials == desk.operator.initials
                                                 else ""))
                    for initials in offered if initials.lower().startswith(typed)]

        def chosen(initials: str | None) -> None:
            if not initials:
                return
            if not INITIALS_RE.fullmatch(initials):
                self.notify("Initials are up to 8 letters, digits or dots", severity="error")
                return
            self._act(f"Assigned to {initials}", assign, initials, desk.operator.initials)

        self.app.push_screen(ChoiceModal("Assign to (type initials; Enter takes the first "
                                         "match or what you typed)", lookup, free_text=True,
                                         placeholder="initials, e.g. LB"), chosen)

    def action_hide(self) -> None:
        """Hide the customer's public message, or unhide it; asks which when there are several."""
        if self.view is None:
            return
        public = [m for m in self.view.messages
                  if m.direction == "inbound" and m.visibility == "public"]
        if not public:
            self.notify("Nothing to hide: only a customer's public message can be hidden",
                        severity="warning")
            return
        if len(public) == 1:
            self._toggle_hidden(public[0])
            return
        by_id = {str(m.id): m for m in public}

        def lookup(text: str) -> list[Choice]:
            return [Choice(str(m.id), f"{'[hidden] ' if hidden_now(m) else ''}"
                                      f"{local_time(m.created_at)} {safe_line(self._text(m))[:60]}")
                    for m in reversed(public) if text.lower() in self._text(m).lower()]

        def chosen(message_id: str | None) -> None:
            if message_id in by_id:
                self._toggle_hidden(by_id[message_id])

        self.app.push_screen(ChoiceModal("Hide or unhide which message? (newest first)",
                                         lookup), chosen)

    def _toggle_hidden(self, message: ThreadMessage) -> None:
        desk = self.desk_app.desk
        unhide = hidden_now(message)
        try:
            action = hide(desk.engine, message.id, desk.operator.initials, now=desk.clock,
                          hidden=not unhide)
        except SocialdeskError as error:
            self.notify(error.message, title=error.title, severity="error")
            return
        self._dispatch(action, "Unhide" if unhide else "Hide")

    def action_merge(self) -> None:
        desk = self.desk_app.desk
        view = self.view
        if view is None or view.contact_id is None:
            self.notify("No known customer to merge", severity="error")
            return
        contact_id = view.contact_id
        found: dict[str, ContactChoice] = {}

        def lookup(text: str) -> list[Choice]:
            candidates = rank_candidates(merge_candidates(desk.engine, contact_id, text),
                                         text or (view.customer or ""))
            found.update({str(c.contact_id): c for c in candidates})
            return [Choice(str(c.contact_id), describe_contact(c)) for c in candidates]

        def chosen(other: str | None) -> None:
            if other not in found:
                return
            candidate = found[other]
            question = (f"Merge {describe_contact(candidate)} into "
                        f"{safe_line(view.customer or 'this customer')}? Their handles, "
                        "conversations and notes move to this card.")
            self.app.push_screen(ConfirmModal(question),
                                 lambda yes: self._merge(candidate, contact_id) if yes else None)

        self.app.push_screen(ChoiceModal("Merge with which contact? Similar names and handles "
                                         "first; type to search", lookup,
                                         placeholder="name or @handle"), chosen)

    def _merge(self, other: ContactChoice, contact_id: int) -> None:
        try:
            merge_contacts(self.desk_app.desk.engine, other.contact_id, contact_id,
                           self.desk_app.desk.operator.initials, now=self.desk_app.desk.clock)
        except SocialdeskError as error:
            self.notify(error.message, title=error.title, severity="error")
            return
        self.notify(f"Merged {describe_contact(other)} into this card")
        self.refresh_view()

    def action_verify(self) -> None:
        desk = self.desk_app.desk
        view = self.view
        if view is None or view.contact_id is None:
            self.notify("No known customer to verify", severity="error")
            return
        contact_id = view.contact_id

        def lookup(text: str) -> list[Choice]:
            return [Choice(method, f"{method}: {VERIFICATION_LABELS.get(method, method)}")
                    for method in VERIFICATION_METHODS if text.lower() in method]

        def chosen(method: str | None) -> None:
            if not method:
                return
            try:
                verify_contact(desk.engine, contact_id, desk.operator.initials, method,
                               now=desk.clock)
            except SocialdeskError as error:
                self.notify(error.message, title=error.title, severity="error")
                return
            self.notify(f"Customer marked verified ({method}), signed {desk.operator.initials}")
            self.refresh_view()

        self.app.push_screen(ChoiceModal("How did you confirm who the customer is?", lookup),
                             chosen)

    def action_history(self) -> None:
        """Pick one of the customer's other conversations on the card and open it."""
        desk = self.desk_app.desk
        others = [c for c in self.card.conversations if c.id != self.conversation_id] \
            if self.card is not None else []
        if not others:
            self.notify("This customer has no other conversation")
            return
        previews = customer_previews(desk.engine, [c.id for c in others])
        choices = [Choice(str(c.id), history_label(c, previews.get(c.id, ""), desk.detector))
                   for c in others]

        def lookup(text: str) -> list[Choice]:
            return [c for c in choices if text.lower() in c.label.lower()]

        async def chosen(conversation_id: str | None) -> None:
            if conversation_id:
                await self.desk_app.open_conversation(int(conversation_id))

        self.app.push_screen(ChoiceModal("Open which of the customer's conversations? "
                                         "(newest first; Esc in it comes back here)", lookup,
                                         placeholder="channel, status or words"), chosen)

    def action_redirect(self) -> None:
        """Suggest mode: carry out the guard's waiting plan for this conversation."""
        desk = self.desk_app.desk
        if not self.suggestions:
            self.notify("No privacy redirect is waiting for this conversation")
            return
        if desk.settings is None:
            self.notify("The redirect sends at once and needs the accounts' config "
                        "(socialdesk tui with --config)", severity="error")
            return
        exposure = self.suggestions[0]
        steps = ", then ".join(step.get("purpose", "?").replace("_", " ")
                               for step in exposure.plan if not step.get("if_dm_refused"))
        question = (f"{exposure.types} shown in public. Carry out the redirect: {steps}? "
                    "It is sent at once and audited.")
        self.app.push_screen(ConfirmModal(question),
                             lambda yes: self.apply_redirect(exposure.id or 0) if yes else None)

    @work(thread=True, exit_on_error=False, group="send")
    def apply_redirect(self, exposure_id: int) -> None:
        desk = self.desk_app.desk
        assert desk.settings is not None
        try:
            done = accept_suggestion(desk.engine, desk.settings, exposure_id,
                                     desk.operator.initials, now=desk.clock)
        except SocialdeskError as error:
            self.app.call_from_thread(self.notify, error.message, title=error.title,
                                      severity="error")
            return
        self.app.call_from_thread(self._redirected, done.outcome)

    def _redirected(self, outcome: str) -> None:
        self.notify(f"Privacy redirect {outcome}",
                    severity="information" if outcome == "done" else "warning")
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
        kind, refused = self._private_kind() if private else (None, None)
        destination = describe_destination(view, last_inbound, private, kind, refused)

        def send(text: str | None) -> None:
            if not text:
                return
            if private and self._private_kind() != (kind, refused):
                self.notify("The private channel changed since the composer opened; nothing "
                            "was sent: press p again to see where it goes now", severity="error")
                return
            warning = None if destination.public else account_data_warning(self.card, text)
            if warning is None:
                self._queue_answer(private, text)
                return
            self.app.push_screen(ConfirmModal(warning + "\n\nSend anyway?"),
                                 lambda yes: self._queue_answer(private, text) if yes else None)

        self.app.push_screen(ComposerModal(destination, suggestions), send)

    def _private_kind(self) -> tuple[str | None, str | None]:
        """`send_private`'s own choice (`direct_message`/`private_reply`), or why none is open."""
        desk, view = self.desk_app.desk, self.view
        assert view is not None
        try:
            return str(private_channel(desk.engine, view.contact_id or 0, conversation_id=view.id,
                                       settings=desk.settings, now=desk.clock)), None
        except SocialdeskError as error:
            return None, error.message

    def _queue_answer(self, private: bool, text: str) -> None:
        """Queue through `socialdesk.desk.answers` (it picks and checks the channel), then send."""
        desk = self.desk_app.desk
        view = self.view
        assert view is not None
        try:
            if private:
                action = send_private(desk.engine, view.contact_id or 0, text,
                                      desk.operator.initials, conversation_id=view.id,
                                      settings=desk.settings, now=desk.clock)
            else:
                action = reply(desk.engine, view.id, text, desk.operator.initials,
                               settings=desk.settings, now=desk.clock)
        except SocialdeskError as error:
            self.notify(error.message, title=error.title, severity="error")
            return
        self._dispatch(action, "Answer")

    def _dispatch(self, action: OutboxAction, what: str) -> None:
        """Send a queued outbox row now when the desk has the tokens, else leave it queued."""
        if self.desk_app.desk.settings is None:
            self.notify(f"{what} queued in the outbox; the next sync sends it")
        else:
            self.notify(f"{what} queued; sending…")
            self.send_queued(action.id or 0, what)
        self.refresh_view()

    @work(thread=True, exit_on_error=False, group="send")
    def send_queued(self, action_id: int, what: str = "Answer") -> None:
        desk = self.desk_app.desk
        assert desk.settings is not None
        try:
            sent = send_now(desk.engine, desk.settings, action_id, now=desk.clock)
        except SocialdeskError as error:
            self.app.call_from_thread(self.notify, error.message, title=error.title,
                                      severity="error")
            return
        self.app.call_from_thread(self._sent, what, sent.state)

    def _sent(self, what: str, state: str) -> None:
        self.notify(f"{what} {state}", severity="information" if state == "sent" else "warning")
        self.refresh_view()


INITIALS_RE = re.compile(r"[A-Za-z0-9.]{1,8}")
"""As `[operator] initials` in the config."""

VERIFICATION_LABELS = {
    "email_code": "a code sent to the e-mail on file",
    "sms_code": "a code sent to the phone on file",
    "call_back": "we called the number on file",
    "order_lookup": "they gave order details only they know",
    "in_person": "in a shop, with an ID",
}

MODERATION_WORDS = {
    ("hide", "sent"): "HIDDEN on the platform",
    ("unhide", "sent"): "unhidden",
    ("hide", "failed"): "hide FAILED",
    ("unhide", "failed"): "unhide FAILED",
}


def moderation_label(kind: str, state: str) -> str:
    """`HIDDEN on the platform`, `hide pending`, `unhide FAILED`...: the outbox row's state."""
    return MODERATION_WORDS.get((kind, state), f"{kind} {state}")


def hidden_now(message: ThreadMessage) -> bool:
    return message.moderation is not None and message.moderation.hidden


def add_note_as(initials: str) -> object:
    def call(engine: object, conversation_id: int, note: str, *, now: Clock) -> int:
        return add_note(engine, conversation_id, initials, note, now=now)  # type: ignore[arg-type]

    return call
