"""Events the workers and screens post; past tense, as they report what happened.

A worker reads or writes off the event loop and posts one of these to the node that asked;
the node's handler owns the state and updates the widgets on the loop. Results meant for
the asking node only do not bubble, so a screen's reload never reaches the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from textual.message import Message

if TYPE_CHECKING:
    from textual.screen import Screen

    from socialdesk.desk.colleagues import AnswerMark, Colleague, ColleagueAnswer
    from socialdesk.store.models import OutboxAction, PrivacyExposure
    from socialdesk.store.queries.card import CustomerCard, StoredText
    from socialdesk.store.queries.conversation import ConversationView
    from socialdesk.store.queries.dashboard import DashboardFigures
    from socialdesk.store.queries.queue import InboxChoices
    from socialdesk.tui.presence_text import Colleagues
    from socialdesk.tui.screens.modals import Choice
    from socialdesk.tui.widgets.queue_pages import QueuePages


class QueueChanged(Message):
    """Something in the store changed since the list was drawn (a sync, another operator)."""


class LatestChangeRead(Message):
    """The poll read `max(updated_at)`; the app compares it with the last one it saw."""

    def __init__(self, newest: datetime | None) -> None:
        super().__init__()
        self.newest = newest


class ActionFailed(Message):
    """A domain call raised an error the operator should read."""

    def __init__(self, title: str, detail: str) -> None:
        super().__init__()
        self.title = title
        self.detail = detail


class QueuePageLoaded(Message, bubble=False):
    """The first rows of a filter were read (and counted, when the cursor must stay near
    the end); `generation` tells a page of an old filter from the current one."""

    def __init__(self, generation: int, pages: QueuePages, keep_cursor: bool) -> None:
        super().__init__()
        self.generation = generation
        self.pages = pages
        self.keep_cursor = keep_cursor


class QueueRowsLoaded(Message, bubble=False):
    """More rows of `pages` are in memory (or, with `counted`, the rows were counted)."""

    def __init__(self, pages: QueuePages, counted: bool = False) -> None:
        super().__init__()
        self.pages = pages
        self.counted = counted


class SearchLimitChecked(Message, bubble=False):
    """Whether the search of reload `generation` hit its match limit."""

    def __init__(self, generation: int, capped: bool) -> None:
        super().__init__()
        self.generation = generation
        self.capped = capped


class InboxChoicesLoaded(Message, bubble=False):
    """The channels, accounts and assignees the filter keys cycle through; `cycle` names
    the filter key that asked."""

    def __init__(self, choices: InboxChoices, cycle: str) -> None:
        super().__init__()
        self.choices = choices
        self.cycle = cycle


class AccountHealthRead(Message, bubble=False):
    """The accounts whose sync needs a human, with the reason."""

    def __init__(self, unhealthy: list[tuple[str, str]]) -> None:
        super().__init__()
        self.unhealthy = unhealthy


class StaleDetectionRead(Message, bubble=False):
    """Accounts whose stored spans were found with other detector settings than the
    config's: the desk masks with them until `socialdesk privacy rescan`."""

    def __init__(self, accounts: list[str], hint: str) -> None:
        super().__init__()
        self.accounts = accounts
        self.hint = hint


@dataclass(frozen=True)
class ConversationContent:
    """What the conversation screen draws: the thread, its card, the pending redirects."""

    conversation_id: int
    view: ConversationView | None
    card: CustomerCard | None
    suggestions: list[PrivacyExposure]


class ConversationLoaded(Message, bubble=False):
    """A conversation was read; `generation` tells the latest read from an older one.
    `opener` is the screen that asked to open it (None for a refresh in place)."""

    def __init__(self, content: ConversationContent, generation: int = 0,
                 opener: Screen[object] | None = None) -> None:
        super().__init__()
        self.content = content
        self.generation = generation
        self.opener = opener


class LaterModulesLoaded(Message, bubble=False):
    """The modules the first screen's keys lead to are imported, the conversation under
    the cursor is read, and the keymap's ids that name no binding are known."""

    def __init__(self, content: ConversationContent, unknown_bindings: list[str]) -> None:
        super().__init__()
        self.content = content
        self.unknown_bindings = unknown_bindings


class ActionDone(Message, bubble=False):
    """A desk action was stored; `done` is what the operator is told."""

    def __init__(self, done: str, warning: bool = False) -> None:
        super().__init__()
        self.done = done
        self.warning = warning


class HoldReleased(ActionDone, bubble=False):
    """A status change that gave the conversation's hold back (resolved): the store also
    forgot that this desk has it open, so the desk says so again."""


class PersonalDataRevealed(Message, bubble=False):
    """The conversation's texts in clear, by message id (the reveal is audited)."""

    def __init__(self, revealed: dict[int, str]) -> None:
        super().__init__()
        self.revealed = revealed


class AnswerQueued(Message, bubble=False):
    """An outbox row was queued (an answer, a hide); `what` names it to the operator."""

    def __init__(self, action: OutboxAction, what: str) -> None:
        super().__init__()
        self.action = action
        self.what = what


class OutboxSent(Message, bubble=False):
    """`send_now` finished with the row in `state` (`sent`, `failed`, ...); `detail` says
    why and what to do when it did not go."""

    def __init__(self, what: str, state: str, detail: str | None = None) -> None:
        super().__init__()
        self.what = what
        self.state = state
        self.detail = detail


class RedirectFinished(Message, bubble=False):
    """The privacy guard's redirect was carried out with `outcome`; `failures` names the
    steps that did not go, why, and what to do."""

    def __init__(self, outcome: str, failures: str = "") -> None:
        super().__init__()
        self.outcome = outcome
        self.failures = failures


class PrivateChannelChosen(Message, bubble=False):
    """`private_channel`'s choice for the customer, or why none is open (`refused`)."""

    def __init__(self, kind: str | None, refused: str | None) -> None:
        super().__init__()
        self.kind = kind
        self.refused = refused


class AssigneesRead(Message, bubble=False):
    """Everyone who has had a conversation, for the assign list."""

    def __init__(self, assignees: list[str]) -> None:
        super().__init__()
        self.assignees = assignees


class HistoryPreviewsRead(Message, bubble=False):
    """The last message of each of the customer's other conversations, by id."""

    def __init__(self, previews: dict[int, StoredText]) -> None:
        super().__init__()
        self.previews = previews


class ChoicesFound(Message, bubble=False):
    """The lines of a pick list for what was typed (`text`), read from the store."""

    def __init__(self, text: str, choices: list[Choice]) -> None:
        super().__init__()
        self.text = text
        self.choices = choices


class DashboardCounted(Message, bubble=False):
    """The dashboard's figures were counted."""

    def __init__(self, figures: DashboardFigures) -> None:
        super().__init__()
        self.figures = figures


class StoreChanged(Message):
    """PostgreSQL told the desk (LISTEN) that rows of `tables` changed; "*" after the
    change feed reconnected: anything may have."""

    def __init__(self, tables: frozenset[str]) -> None:
        super().__init__()
        self.tables = tables


class FeedUnavailable(Message):
    """No change feed on this store (SQLite, or LISTEN refused): the desk polls."""


class PresenceRead(Message, bubble=False):
    """The other desks heard from lately: where they are, whether they type, what they
    took."""

    def __init__(self, colleagues: Colleagues) -> None:
        super().__init__()
        self.colleagues = colleagues


class PresenceFailed(Message, bubble=False):
    """A heartbeat could not be stored or read: `detail` says why (said once)."""

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail


class TypingChanged(Message):
    """The composer went from empty to holding text, or back: colleagues are told."""


class ConversationTaken(Message, bubble=False):
    """Take next found a conversation and holds it for this desk (None: nothing left)."""

    def __init__(self, content: ConversationContent | None) -> None:
        super().__init__()
        self.content = content


class ColleaguesChecked(Message, bubble=False):
    """Who else is on the conversation as `r`/`p` is pressed, and where its messages and
    outbox stand, so an answer sent meanwhile is caught before ours goes."""

    def __init__(self, colleagues: list[Colleague], mark: AnswerMark, private: bool) -> None:
        super().__init__()
        self.colleagues = colleagues
        self.mark = mark
        self.private = private


class ColleagueAnswered(Message, bubble=False):
    """Answers reached the conversation while the operator typed; theirs is not sent yet."""

    def __init__(self, answers: list[ColleagueAnswer], send: Callable[[], None]) -> None:
        super().__init__()
        self.answers = answers
        self.send = send


class PermissionChecked(Message, bubble=False):
    """Whether the operator may do `permission`; `refused` says who may, and why not."""

    def __init__(self, permission: str, refused: str | None) -> None:
        super().__init__()
        self.permission = permission
        self.refused = refused


@runtime_checkable
class FollowsPresence(Protocol):
    """A screen that shows which colleagues are where, told when that changed."""

    def presence_changed(self, colleagues: Colleagues) -> None:
        """Show the other desks as last heard from."""


@runtime_checkable
class FollowsQueue(Protocol):
    """A screen that shows what is in the store, told by the app when it changed."""

    def queue_changed(self) -> None:
        """Show the store as it is now (keeping the operator's place)."""
