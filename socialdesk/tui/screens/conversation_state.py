"""What the conversation screen's keys work on: the conversation as last read, and the two
ways they reach the store (a re-read in a worker, a write in the desk's write queue)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.screen import Screen

from socialdesk.privacy.mask import mask_stored_spans
from socialdesk.tui.messages import ActionDone, ConversationContent, ConversationLoaded
from socialdesk.tui.workers import DeskCall, load_conversation, start_worker

if TYPE_CHECKING:
    from socialdesk.store.models import PrivacyExposure
    from socialdesk.store.queries.card import CustomerCard
    from socialdesk.store.queries.conversation import ConversationView, ThreadMessage
    from socialdesk.tui.app import DeskApp


UNPLACED_PERSONAL_DATA = ("(hidden: personal data stored without its place in the text; "
                          "run socialdesk privacy rescan, or reveal it)")


class ConversationState(Screen[None]):
    """The conversation shown, as its worker last read it, and what the operator revealed."""

    def __init__(self, content: ConversationContent) -> None:
        super().__init__()
        self.content = content
        self.revealed: dict[int, str] | None = None
        self.reveal_pending = False
        """A reveal is queued and its answer not yet back: a second `v` is not a second look."""
        self._generation = 0
        """Counts reads: a read older than the last one asked is dropped when it arrives."""

    @property
    def desk_app(self) -> DeskApp:
        return self.app  # type: ignore[return-value]

    @property
    def conversation_id(self) -> int:
        return self.content.conversation_id

    @property
    def view(self) -> ConversationView | None:
        return self.content.view

    @property
    def card(self) -> CustomerCard | None:
        return self.content.card

    @property
    def suggestions(self) -> list[PrivacyExposure]:
        return self.content.suggestions

    def refresh_view(self) -> None:
        """Re-read the conversation and its card in a worker; called after every action
        and on changes. `on_conversation_loaded` draws it."""
        self._generation += 1
        start_worker(self, partial(load_conversation, self, self.desk_app.desk.engine,
                                   self.conversation_id, self._generation),
                     group="conversation", exclusive=True)

    def fresh(self, event: ConversationLoaded) -> bool:
        """Whether `event` is the last read asked for, of the conversation still shown."""
        return (event.generation == self._generation
                and event.content.conversation_id == self.conversation_id)

    def write(self, call: DeskCall) -> None:
        """Queue a desk action: the desk runs its writes one at a time, in key order."""
        self.desk_app.write(self, call)

    def on_action_done(self, event: ActionDone) -> None:
        self.notify(event.done, severity="warning" if event.warning else "information")
        self.refresh_view()

    def text_of(self, message: ThreadMessage) -> str:
        """The message as the operator may read it: masked with the spans stored at ingest
        (as the reports and the guard read them), unless revealed."""
        if self.revealed is not None and message.id in self.revealed:
            return self.revealed[message.id]
        if not message.has_pii:
            return message.text
        if not message.pii_spans:  # flagged before spans were stored: where is unknown
            return UNPLACED_PERSONAL_DATA
        return mask_stored_spans(message.text, message.pii_spans)
