"""The conversation's answering keys: reply, write privately, and the privacy guard's
redirect; then sending the queued outbox row at once when the desk has the tokens."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.message import Message

from socialdesk.desk.answers import reply, send_private
from socialdesk.desk.identity import account_data_warning
from socialdesk.desk.outbox import send_now
from socialdesk.privacy.plan_steps import read_plan
from socialdesk.privacy.suggestions import accept_suggestion
from socialdesk.store.models import ExposureOutcome, OutboxState
from socialdesk.tui.messages import (
    ActionFailed,
    AnswerQueued,
    OutboxSent,
    PrivateChannelChosen,
    RedirectFinished,
)
from socialdesk.tui.saved_replies import fill, suggest
from socialdesk.tui.screens.conversation_state import ConversationState
from socialdesk.tui.screens.modals import ConfirmModal
from socialdesk.tui.widgets.composer import ComposerModal, describe_destination
from socialdesk.tui.workers import (
    PrivateKind,
    private_kind,
    read_private_channel,
    run_desk_call,
    start_worker,
)

CHANNEL_CHANGED = ("The private channel changed since the composer opened; nothing was sent: "
                   "press p again to see where it goes now")


class AnswerKeys(ConversationState):
    """The keys that write to the customer; the composer says where before anything goes."""

    async def action_reply(self) -> None:
        await self._open_composer(private=False, kind=(None, None))

    def action_reply_private(self) -> None:
        """Ask `send_private`'s own rule where a private answer goes, then open the
        composer naming it (the keys typed meanwhile go into the composer)."""
        if self.view is None or self.view.contact_id is None:
            self.notify("No known customer to write to", severity="error")
            return
        self.desk_app.hold_keys()
        start_worker(self, partial(read_private_channel, self, self._private_kind()),
                     group="private-channel", exclusive=True)

    async def on_private_channel_chosen(self, event: PrivateChannelChosen) -> None:
        await self._open_composer(private=True, kind=(event.kind, event.refused))
        self.desk_app.release_keys()

    def _private_kind(self) -> Callable[[], PrivateKind]:
        """The read of where a private answer would go, for a worker to run."""
        desk, view = self.desk_app.desk, self.view
        assert view is not None
        return partial(private_kind, desk.engine, view.contact_id or 0, view.id,
                       desk.settings, desk.clock)

    async def _open_composer(self, private: bool, kind: PrivateKind) -> None:
        if self.view is None:
            return
        desk = self.desk_app.desk
        view = self.view
        card = self.card
        last_inbound = next((m for m in reversed(view.messages) if m.direction == "inbound"),
                            None)
        agent = desk.operator.name or desk.operator.initials
        suggestions = [(saved, fill(saved.text, view.customer, agent)) for saved in
                       suggest(desk.saved_replies, last_inbound.text if last_inbound else "")]
        destination = describe_destination(view, last_inbound, private, *kind)

        def send(text: str | None) -> None:
            if not text:
                return
            warning = None if destination.public else account_data_warning(card, text)
            if warning is None:
                self._queue_answer(private, text, kind)
                return
            self.app.push_screen(
                ConfirmModal(warning + "\n\nSend anyway?"),
                lambda yes: self._queue_answer(private, text, kind) if yes else None)

        await self.app.push_screen(ComposerModal(destination, suggestions), send)

    def _queue_answer(self, private: bool, text: str, kind: PrivateKind) -> None:
        """Queue through `socialdesk.desk.answers` (it picks and checks the channel), then
        send. A private answer goes only where the composer said it would."""
        desk, view = self.desk_app.desk, self.view
        assert view is not None
        private_kind_now = self._private_kind()

        def call() -> Message:
            if private and private_kind_now() != kind:
                return ActionFailed("", CHANNEL_CHANGED)
            if private:
                action = send_private(desk.engine, view.contact_id or 0, text,
                                      desk.operator.initials, conversation_id=view.id,
                                      settings=desk.settings, now=desk.clock)
            else:
                action = reply(desk.engine, view.id, text, desk.operator.initials,
                               settings=desk.settings, now=desk.clock)
            return AnswerQueued(action, "Answer")

        self.write(call)

    def on_answer_queued(self, event: AnswerQueued) -> None:
        """Send a queued outbox row now when the desk has the tokens, else leave it queued."""
        desk = self.desk_app.desk
        if desk.settings is None:
            self.notify(f"{event.what} queued in the outbox; the next sync sends it")
        else:
            self.notify(f"{event.what} queued; sending…")
            settings, action_id, what = desk.settings, event.action.id or 0, event.what
            start_worker(self, partial(run_desk_call, self, lambda: OutboxSent(
                what, send_now(desk.engine, settings, action_id, now=desk.clock).state)),
                group="send")
        self.refresh_view()

    def on_outbox_sent(self, event: OutboxSent) -> None:
        self.notify(f"{event.what} {event.state}",
                    severity="information" if event.state == OutboxState.SENT else "warning")
        self.refresh_view()

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
        steps = ", then ".join(step.action.purpose.value.replace("_", " ")
                               for step in read_plan(exposure.plan) if not step.conditional)
        question = (f"{exposure.types} shown in public. Carry out the redirect: {steps}? "
                    "It is sent at once and audited.")
        self.app.push_screen(ConfirmModal(question),
                             lambda yes: self.apply_redirect(exposure.id or 0) if yes else None)

    def apply_redirect(self, exposure_id: int) -> None:
        """Sent at once, in a worker of its own: a send may wait on the platform."""
        desk = self.desk_app.desk
        settings = desk.settings
        assert settings is not None
        start_worker(self, partial(run_desk_call, self, lambda: RedirectFinished(
            accept_suggestion(desk.engine, settings, exposure_id, desk.operator.initials,
                              now=desk.clock).outcome)), group="send")

    def on_redirect_finished(self, event: RedirectFinished) -> None:
        self.notify(f"Privacy redirect {event.outcome}",
                    severity="information" if event.outcome == ExposureOutcome.DONE else "warning")
        self.refresh_view()
