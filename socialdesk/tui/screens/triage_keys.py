"""The conversation's triage keys: status, assignment, notes, reveal, hide, merge,
verification and the customer's other conversations. Each write goes through the desk's
write queue and each read through a worker; the handlers here draw what came back."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from textual.message import Message

from socialdesk.desk.answers import hide
from socialdesk.desk.identity import VERIFICATION_METHODS, verify_contact
from socialdesk.desk.roles import Permission
from socialdesk.desk.triage import add_note, assign, merge_contacts, reveal, set_status
from socialdesk.privacy.mask import safe_line
from socialdesk.store.models import Status
from socialdesk.store.queries.card import ContactChoice, merge_candidates
from socialdesk.store.queries.conversation import ThreadMessage
from socialdesk.store.team import release
from socialdesk.tui.messages import (
    ActionDone,
    ActionFailed,
    AnswerQueued,
    AssigneesRead,
    HistoryPreviewsRead,
    HoldReleased,
    PermissionChecked,
    PersonalDataRevealed,
)
from socialdesk.tui.screens.conversation_state import ConversationState
from socialdesk.tui.screens.modals import Choice, ChoiceModal, ConfirmModal, NoteModal
from socialdesk.tui.team_workers import allowed_to, check_permission
from socialdesk.tui.times import full_time
from socialdesk.tui.widgets.conversation_thread import hidden_now
from socialdesk.tui.widgets.customer_card import (
    describe_contact,
    history_label,
    rank_candidates,
)
from socialdesk.tui.workers import read_assignees, read_history_previews, start_worker

INITIALS_RE = re.compile(r"[A-Za-z0-9.]{1,8}")
"""As `[operator] initials` in the config."""

VERIFICATION_LABELS = {
    "email_code": "a code sent to the e-mail on file",
    "sms_code": "a code sent to the phone on file",
    "call_back": "we called the number on file",
    "order_lookup": "they gave order details only they know",
    "in_person": "in a shop, with an ID",
}


class TriageKeys(ConversationState):
    """The keys that change who has the conversation, what state it is in, and the card."""

    def _act(self, done: str, action: Callable[..., object], *args: object) -> None:
        """Queue one domain action on this conversation; `done` is said once it is stored,
        and the screen re-reads the store."""
        desk, conversation_id = self.desk_app.desk, self.conversation_id

        def call() -> Message:
            action(desk.engine, conversation_id, *args, now=desk.clock)
            return ActionDone(done)

        self.write(call)

    def action_status(self, status: str) -> None:
        """Resolving a conversation this desk took gives its hold back (take next)."""
        desk, conversation_id = self.desk_app.desk, self.conversation_id
        if status != Status.RESOLVED:
            self._act(f"Marked {status}", set_status, Status(status), desk.operator.initials)
            return

        def call() -> Message:
            set_status(desk.engine, conversation_id, Status.RESOLVED, desk.operator.initials,
                       now=desk.clock)
            release(desk.engine, desk.desk_id, conversation_id)
            return HoldReleased(f"Marked {status}")

        self.desk_app.released(conversation_id)
        self.write(call)

    def on_hold_released(self, event: HoldReleased) -> None:
        self.on_action_done(event)
        self.desk_app.heartbeats.say_again()

    def action_assign_me(self) -> None:
        initials = self.desk_app.desk.operator.initials
        self._act(f"Assigned to {initials}", assign, initials, initials)

    def action_unassign(self) -> None:
        self._act("Unassigned", assign, None, self.desk_app.desk.operator.initials)

    def action_note(self) -> None:
        initials = self.desk_app.desk.operator.initials

        def save(note: str | None) -> None:
            if note:
                self._act(f"Note saved, signed {initials}", add_note, initials, note)

        self.app.push_screen(NoteModal(initials), save)

    def action_reveal(self) -> None:
        """Show the personal data in clear (audited), or mask it again when it is shown."""
        if self.reveal_pending:  # a key repeat: the reveal asked for is on its way
            return
        if self.revealed is not None:
            self.revealed = None
            self.notify("Personal data masked again")
            self.refresh_view()
            return
        self.reveal_pending = True
        desk, conversation_id = self.desk_app.desk, self.conversation_id

        def call() -> Message:
            allowed_to(desk.settings, desk.engine, desk.operator.initials, Permission.REVEAL)
            return PersonalDataRevealed(
                reveal(desk.engine, conversation_id, desk.operator.initials, now=desk.clock))

        self.write(call)

    def on_personal_data_revealed(self, event: PersonalDataRevealed) -> None:
        self.reveal_pending = False
        self.revealed = event.revealed
        self.notify("Personal data shown in clear; the reveal is in the audit log",
                    severity="warning")
        self.refresh_view()

    def on_action_failed(self, _event: ActionFailed) -> None:
        """A refused or failed reveal lets `v` ask again; the notice is the app's (the
        message goes on to it)."""
        self.reveal_pending = False

    def action_assign_to(self) -> None:
        """Pick from everyone who has had a conversation (read first; the keys typed
        meanwhile go to the list)."""
        self.desk_app.hold_keys()
        start_worker(self, partial(read_assignees, self, self.desk_app.desk.engine),
                     group="assignees", exclusive=True)

    async def on_assignees_read(self, event: AssigneesRead) -> None:
        desk = self.desk_app.desk
        known = [desk.operator.initials]
        if desk.settings is not None:
            known += [desk.settings.operator.initials, *desk.settings.reports.unmask_operators]
        offered = list(dict.fromkeys(known + event.assignees))

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

        await self.app.push_screen(ChoiceModal("Assign to (type initials; Enter takes the first "
                                               "match or what you typed)", lookup,
                                               free_text=True, placeholder="initials, e.g. LB"),
                                   chosen)
        self.desk_app.release_keys()  # once the list has the focus: the keys are for it

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
                                      f"{full_time(m.created_at, self.desk_app.desk.zone)} "
                                      f"{safe_line(self.text_of(m))[:60]}")
                    for m in reversed(public) if text.lower() in self.text_of(m).lower()]

        def chosen(message_id: str | None) -> None:
            if message_id in by_id:
                self._toggle_hidden(by_id[message_id])

        self.app.push_screen(ChoiceModal("Hide or unhide which message? (newest first)",
                                         lookup), chosen)

    def _toggle_hidden(self, message: ThreadMessage) -> None:
        desk = self.desk_app.desk
        unhide = hidden_now(message)
        self.write(lambda: AnswerQueued(
            hide(desk.engine, message.id, desk.operator.initials, now=desk.clock,
                 hidden=not unhide), "Unhide" if unhide else "Hide"))

    def action_merge(self) -> None:
        desk = self.desk_app.desk
        view = self.view
        if view is None or view.contact_id is None:
            self.notify("No known customer to merge", severity="error")
            return
        contact_id = view.contact_id
        found: dict[str, ContactChoice] = {}

        def lookup(text: str) -> list[Choice]:
            """Reads the store: the modal runs it in a worker."""
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
                                         placeholder="name or @handle", reads_store=True),
                             chosen)

    def _merge(self, other: ContactChoice, contact_id: int) -> None:
        desk = self.desk_app.desk

        def call() -> Message:
            merge_contacts(desk.engine, other.contact_id, contact_id, desk.operator.initials,
                           now=desk.clock)
            return ActionDone(f"Merged {describe_contact(other)} into this card")

        self.write(call)

    def action_verify(self) -> None:
        """Asks the roles first (a worker): someone who may not verify is told before
        picking how."""
        view = self.view
        if view is None or view.contact_id is None:
            self.notify("No known customer to verify", severity="error")
            return
        desk = self.desk_app.desk
        self.desk_app.hold_keys()
        start_worker(self, partial(check_permission, self, desk.settings, desk.engine,
                                   desk.operator.initials, Permission.VERIFY_IDENTITY),
                     group="permission", exclusive=True)

    async def on_permission_checked(self, event: PermissionChecked) -> None:
        try:
            if event.refused is not None:
                self.notify(event.refused, title="not allowed", severity="error",
                            markup=False)
            elif event.permission == Permission.VERIFY_IDENTITY:
                await self._pick_verification()
        finally:
            self.desk_app.release_keys()

    async def _pick_verification(self) -> None:
        desk = self.desk_app.desk
        view = self.view
        if view is None or view.contact_id is None:
            return
        contact_id = view.contact_id

        def lookup(text: str) -> list[Choice]:
            return [Choice(method, f"{method}: {VERIFICATION_LABELS.get(method, method)}")
                    for method in VERIFICATION_METHODS if text.lower() in method]

        def chosen(method: str | None) -> None:
            if not method:
                return

            def call() -> Message:
                allowed_to(desk.settings, desk.engine, desk.operator.initials,
                           Permission.VERIFY_IDENTITY)
                verify_contact(desk.engine, contact_id, desk.operator.initials, method,
                               now=desk.clock)
                return ActionDone(f"Customer marked verified ({method}), "
                                  f"signed {desk.operator.initials}")

            self.write(call)

        await self.app.push_screen(ChoiceModal("How did you confirm who the customer is?",
                                               lookup), chosen)

    def action_history(self) -> None:
        """Pick one of the customer's other conversations on the card and open it."""
        others = [c.id for c in self.card.conversations if c.id != self.conversation_id] \
            if self.card is not None else []
        if not others:
            self.notify("This customer has no other conversation")
            return
        self.desk_app.hold_keys()
        start_worker(self, partial(read_history_previews, self, self.desk_app.desk.engine,
                                   others), group="history", exclusive=True)

    async def on_history_previews_read(self, event: HistoryPreviewsRead) -> None:
        others = [c for c in self.card.conversations if c.id != self.conversation_id] \
            if self.card is not None else []
        zone = self.desk_app.desk.zone
        choices = [Choice(str(c.id), history_label(c, event.previews.get(c.id), zone))
                   for c in others]

        def lookup(text: str) -> list[Choice]:
            return [c for c in choices if text.lower() in c.label.lower()]

        def chosen(conversation_id: str | None) -> None:
            if conversation_id:
                self.desk_app.open_conversation(int(conversation_id))

        await self.app.push_screen(ChoiceModal("This customer's other conversations, newest "
                                               "first (Esc in one returns here)",
                                               lookup, placeholder="channel, status or words"),
                                   chosen)
        self.desk_app.release_keys()
