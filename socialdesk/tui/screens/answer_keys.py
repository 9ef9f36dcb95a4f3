"""The conversation's answering keys: reply, write privately, and the privacy guard's
redirect; then sending the queued outbox row at once when the desk has the tokens.

A public answer while the guard's redirect waits asks first (redirect, or answer anyway,
audited). What was typed stays as the conversation's draft until it is queued or dropped,
so a refusal ("shorten it by 109") or an Esc loses nothing. A failure says why and what
to do, from the reason stored with the outbox row."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.message import Message

from socialdesk.desk.answers import PublicAnswerHeld, reply, send_private
from socialdesk.desk.colleagues import AnswerMark, answers_since
from socialdesk.desk.failure_advice import SETTLED_BADLY, redirect_failures, send_failure
from socialdesk.desk.identity import account_data_warning
from socialdesk.desk.outbox import send_now
from socialdesk.privacy.mask import safe_line
from socialdesk.privacy.plan_steps import read_plan
from socialdesk.privacy.suggestions import accept_suggestion
from socialdesk.store.models import ExposureOutcome, OutboxState, PrivacyExposure
from socialdesk.tui.messages import (
    ActionFailed,
    AnswerQueued,
    ColleagueAnswered,
    ColleaguesChecked,
    OutboxSent,
    PrivateChannelChosen,
    RedirectFinished,
)
from socialdesk.tui.saved_replies import fill, suggest
from socialdesk.tui.screens.conversation_state import ConversationState
from socialdesk.tui.screens.modals import ConfirmModal
from socialdesk.tui.screens.public_answer_question import (
    PublicAnswerChoice,
    PublicAnswerQuestion,
)
from socialdesk.tui.team_workers import check_colleagues
from socialdesk.tui.times import full_time
from socialdesk.tui.widgets.composer import Composed, ComposerModal, describe_destination
from socialdesk.tui.workers import (
    PrivateKind,
    private_kind,
    read_private_channel,
    run_desk_call,
    start_worker,
)

CHANNEL_CHANGED = ("The private channel changed since the composer opened; nothing was sent: "
                   "press p again to see where it goes now")


class PublicAnswerWaiting(Message, bubble=False):
    """The store refused a public answer: personal data there waits for the guard."""

    def __init__(self, types: str, text: str) -> None:
        super().__init__()
        self.types = types
        self.text = text


class AnswerKeys(ConversationState):
    """The keys that write to the customer; the composer says where before anything goes."""

    answer_mark: tuple[int, AnswerMark] | None = None
    """(conversation, where it stood) when the composer last opened: an answer arriving
    after it is shown before ours goes (`_queue_answer`)."""

    def action_reply(self) -> None:
        self._check_colleagues(private=False)

    def action_reply_private(self) -> None:
        if self.view is None or self.view.contact_id is None:
            self.notify("No known customer to write to", severity="error")
            return
        self._check_colleagues(private=True)

    def _check_colleagues(self, private: bool) -> None:
        """Who else is on the conversation, read first (the keys typed meanwhile wait for
        the composer): a colleague typing in it or holding it is asked about."""
        if self.view is None:
            return
        desk = self.desk_app.desk
        self.desk_app.hold_keys()
        start_worker(self, partial(check_colleagues, self, desk.engine, self.conversation_id,
                                   desk.desk_id, private), group="colleagues", exclusive=True)

    async def on_colleagues_checked(self, event: ColleaguesChecked) -> None:
        self.answer_mark = (self.conversation_id, event.mark)
        answering = [colleague.initials for colleague in event.colleagues
                     if colleague.answering]
        if not answering:
            await self._answer(event.private)
            return
        verb = "is" if len(answering) == 1 else "are"
        question = f"{', '.join(answering)} {verb} answering this: answer anyway?"
        await self.app.push_screen(ConfirmModal(question),
                                   partial(self._answer_anyway, event.private))
        self.desk_app.release_keys()  # they answer the question

    async def _answer_anyway(self, private: bool, yes: bool | None) -> None:
        if yes:
            await self._answer(private)

    async def _answer(self, private: bool) -> None:
        if private:
            self._ask_private_channel()
            return
        await self._reply_now()
        self.desk_app.release_keys()

    async def _reply_now(self) -> None:
        """A public answer while the guard's redirect waits asks first."""
        view = self.view
        if view is not None and view.visibility == "public" and self.suggestions:
            exposure = self.suggestions[0]
            question = PublicAnswerQuestion(exposure.types.replace(",", ", "),
                                            redirect_steps(exposure),
                                            self.desk_app.desk.operator.initials)
            self.app.push_screen(question, partial(self._public_answer_chosen, exposure, None))
            return
        await self._open_composer(private=False, kind=(None, None))

    async def _public_answer_chosen(self, exposure: PrivacyExposure | None, text: str | None,
                                    choice: PublicAnswerChoice | None) -> None:
        """g: the redirect, now; a: the answer (`text` when already written), audited."""
        if choice == "redirect" and exposure is not None:
            self.start_redirect(exposure.id or 0)
        elif choice == "anyway" and text is not None:
            self._queue_answer(False, text, (None, None), public_anyway=True)
        elif choice == "anyway":
            await self._open_composer(private=False, kind=(None, None), public_anyway=True)

    def on_public_answer_waiting(self, event: PublicAnswerWaiting) -> None:
        """The guard had not looked at the message when the desk last read it: ask now,
        with the answer already written (it stays the draft meanwhile)."""
        exposure = self.suggestions[0] if self.suggestions else None
        question = PublicAnswerQuestion(event.types,
                                        redirect_steps(exposure) if exposure else None,
                                        self.desk_app.desk.operator.initials)
        self.app.push_screen(question, partial(self._public_answer_chosen, exposure,
                                               event.text))

    def _ask_private_channel(self) -> None:
        """Ask `send_private`'s own rule where a private answer goes, then open the
        composer naming it (the keys typed meanwhile go into the composer)."""
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

    def _draft_key(self, private: bool) -> tuple[int, bool]:
        return (self.conversation_id, private)

    async def _open_composer(self, private: bool, kind: PrivateKind,
                             public_anyway: bool = False) -> None:
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

        drafts, key = desk.drafts, self._draft_key(private)

        def closed(composed: Composed | None) -> None:
            text = composed.text if composed is not None else ""
            if text.strip():
                drafts[key] = text
            else:
                drafts.pop(key, None)
            if composed is None or not composed.send:
                return
            warning = None if destination.public else account_data_warning(card, text)
            if warning is None:
                self._queue_answer(private, text, kind, public_anyway)
                return
            self.app.push_screen(
                ConfirmModal(warning + "\n\nSend anyway?"),
                lambda yes: self._queue_answer(private, text, kind) if yes else None)

        await self.app.push_screen(
            ComposerModal(destination, suggestions, drafts.get(key, "")), closed)

    def _queue_answer(self, private: bool, text: str, kind: PrivateKind,
                      public_anyway: bool = False, checked: bool = False) -> None:
        """Queue through `socialdesk.desk.answers` (it picks and checks the channel), then
        send. A private answer goes only where the composer said it would. An answer that
        reached the conversation since the composer opened is shown first, unless
        `checked` (the operator saw it and sends anyway). The draft goes once the answer
        is queued; a refusal leaves it for the next r or p."""
        desk, view = self.desk_app.desk, self.view
        assert view is not None
        private_kind_now = self._private_kind()
        drafts, key = desk.drafts, self._draft_key(private)
        mark = self.answer_mark[1] if self.answer_mark and not checked and \
            self.answer_mark[0] == view.id else None

        def call() -> Message:
            if mark is not None:
                meanwhile = answers_since(desk.engine, view.id, mark, desk.operator.initials)
                if meanwhile:
                    return ColleagueAnswered(meanwhile, partial(
                        self._queue_answer, private, text, kind, public_anyway, checked=True))
            if private and private_kind_now() != kind:
                return ActionFailed("", CHANNEL_CHANGED)
            if private:
                action = send_private(desk.engine, view.contact_id or 0, text,
                                      desk.operator.initials, conversation_id=view.id,
                                      settings=desk.settings, now=desk.clock)
            else:
                try:
                    action = reply(desk.engine, view.id, text, desk.operator.initials,
                                   settings=desk.settings, public_anyway=public_anyway,
                                   now=desk.clock)
                except PublicAnswerHeld as held:
                    return PublicAnswerWaiting(held.types, text)
            if drafts.get(key, "").strip() == text.strip():
                drafts.pop(key, None)
            return AnswerQueued(action, "Answer")

        self.write(call)

    def on_colleague_answered(self, event: ColleagueAnswered) -> None:
        """Their answer, before ours goes: send ours as well, or keep it as the draft."""
        self.refresh_view()
        zone = self.desk_app.desk.zone
        said = "\n".join(f"{answer.by}, {full_time(answer.at, zone)} ({answer.state}): "
                         f"{safe_line(answer.text)}" for answer in event.answers)
        question = (f"While you were writing, this answer went to the conversation:\n\n"
                    f"{said}\n\nSend yours as well? (No keeps it as the draft)")

        def answered(yes: bool | None) -> None:
            if yes:
                event.send()
            else:
                self.notify("Not sent: your answer waits as the draft for the next r or p")

        self.app.push_screen(ConfirmModal(question), answered)

    def on_answer_queued(self, event: AnswerQueued) -> None:
        """Send a queued outbox row now when the desk has the tokens, else leave it queued."""
        desk = self.desk_app.desk
        if desk.settings is None:
            self.notify(f"{event.what} queued in the outbox; the next sync sends it")
        else:
            self.notify(f"{event.what} queued; sending…")
            settings, action_id, what = desk.settings, event.action.id or 0, event.what

            def send() -> OutboxSent:
                action = send_now(desk.engine, settings, action_id, now=desk.clock)
                failed = action.state in SETTLED_BADLY
                return OutboxSent(what, action.state,
                                  send_failure(what, action) if failed else None)

            start_worker(self, partial(run_desk_call, self, send), group="send")
        self.refresh_view()

    def on_outbox_sent(self, event: OutboxSent) -> None:
        self.notify(event.detail or f"{event.what} {event.state}",
                    severity="information" if event.state == OutboxState.SENT else "warning",
                    timeout=5 if event.detail is None else 15, markup=False)
        self.refresh_view()

    def action_redirect(self) -> None:
        """Suggest mode: carry out the guard's waiting plan for this conversation."""
        if not self.suggestions:
            self.notify("No privacy redirect is waiting for this conversation")
            return
        if self.desk_app.desk.settings is None:
            self.start_redirect(0)  # says why it cannot, before asking anything
            return
        exposure = self.suggestions[0]
        question = (f"{exposure.types} shown in public. Carry out the redirect: "
                    f"{redirect_steps(exposure)}? It is sent at once and audited.")
        self.app.push_screen(ConfirmModal(question),
                             lambda yes: self.start_redirect(exposure.id or 0) if yes else None)

    def start_redirect(self, exposure_id: int) -> None:
        """The redirect, if the desk can send (it needs the accounts' config)."""
        if self.desk_app.desk.settings is None:
            self.notify("The redirect sends at once and needs the accounts' config "
                        "(socialdesk tui with --config)", severity="error")
            return
        self.apply_redirect(exposure_id)

    def apply_redirect(self, exposure_id: int) -> None:
        """Sent at once, in a worker of its own: a send may wait on the platform."""
        desk = self.desk_app.desk
        settings = desk.settings
        assert settings is not None

        def redirect() -> RedirectFinished:
            exposure = accept_suggestion(desk.engine, settings, exposure_id,
                                         desk.operator.initials, now=desk.clock)
            return RedirectFinished(exposure.outcome, redirect_failures(desk.engine, exposure))

        start_worker(self, partial(run_desk_call, self, redirect), group="send")

    def on_redirect_finished(self, event: RedirectFinished) -> None:
        failures = f": {event.failures}" if event.failures else ""
        self.notify(f"Privacy redirect {event.outcome}{failures}",
                    severity="information" if event.outcome == ExposureOutcome.DONE else "warning",
                    timeout=5 if not failures else 15, markup=False)
        self.refresh_view()


def redirect_steps(exposure: PrivacyExposure) -> str:
    """"hide, then private message, then public pointer": the plan, in words."""
    return ", then ".join(step.action.purpose.value.replace("_", " ")
                          for step in read_plan(exposure.plan) if not step.conditional)
