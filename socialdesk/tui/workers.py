"""Thread workers: every call the desk makes to the store, `desk` or the privacy guard.

Each runs in a Textual thread worker (`run_worker(..., thread=True)`), so the event loop
never waits on the database: on PostgreSQL every read is a network round trip. A worker
touches no widget; it posts one past-tense message (`tui.messages`) to the node that
asked, whose handler updates the screen. A `SocialdeskError` becomes `ActionFailed`;
anything else fails the worker, and the app shows it as a notice (`DeskApp`).
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import get_current_worker

from socialdesk.clock import Clock
from socialdesk.desk.answers import private_channel
from socialdesk.errors import SocialdeskError
from socialdesk.privacy.suggestions import pending_suggestions
from socialdesk.store.db import refresh_statistics
from socialdesk.store.queries.card import customer_card, customer_previews
from socialdesk.store.queries.conversation import conversation_view
from socialdesk.store.queries.dashboard import dashboard_figures, unhealthy_accounts
from socialdesk.store.queries.queue import (
    InboxFilter,
    InboxKey,
    InboxRow,
    inbox_choices,
    inbox_count,
    inbox_page,
    known_assignees,
    latest_change,
    search_hits_limit,
)
from socialdesk.tui.messages import (
    AccountHealthRead,
    ActionFailed,
    AssigneesRead,
    ChoicesFound,
    ConversationContent,
    ConversationLoaded,
    DashboardCounted,
    HistoryPreviewsRead,
    InboxChoicesLoaded,
    LaterModulesLoaded,
    LatestChangeRead,
    PrivateChannelChosen,
    QueuePageLoaded,
    QueueRowsLoaded,
    SearchLimitChecked,
    StaleDetectionRead,
)
from socialdesk.tui.widgets.queue_pages import FOLLOW_ROWS, QueuePages

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from textual.dom import DOMNode
    from textual.screen import Screen
    from textual.worker import Worker

    from socialdesk.config import Settings
    from socialdesk.tui.screens.modals import Choice

DeskCall = Callable[[], Message]
"""A store or desk call, bound to its arguments, that returns the message to post."""


def start_worker(node: DOMNode, work: Callable[[], None], *, group: str,
                 exclusive: bool = False) -> Worker[None]:
    """Run `work` in a thread worker of `node`. An error reaches the operator as a notice
    (`ActionFailed`, which bubbles to the app) and the desk keeps running, as harlequin's
    `_handle_worker_error` does; one it did not expect also fails the worker."""

    def guarded() -> None:
        try:
            work()
        except SocialdeskError as error:  # a read the operator can act on, in its words
            node.post_message(ActionFailed(error.title, error.message))
        except Exception as error:
            node.post_message(ActionFailed("background task failed", f"{group}: {error}"))
            raise

    return node.run_worker(guarded, name=group, group=group, thread=True, exclusive=exclusive,
                           exit_on_error=False)


def run_desk_call(target: MessagePump, call: DeskCall) -> None:
    """Run one desk action and post its result, or `ActionFailed` with the error's words."""
    try:
        message = call()
    except SocialdeskError as error:
        message = ActionFailed(error.title, error.message)
    target.post_message(message)


def read_latest_change(target: MessagePump, engine: Engine) -> None:
    """`max(updated_at)`, the change poll's one query (SQLite has no notifications)."""
    newest = latest_change(engine)
    if not get_current_worker().is_cancelled:
        target.post_message(LatestChangeRead(newest))


def run_background_sync(target: MessagePump, sync: Callable[[], object],
                        engine: Engine) -> None:
    """The demo's sandbox sync, then the change poll's read, so new rows show at once."""
    sync()
    target.post_message(LatestChangeRead(latest_change(engine)))


def queue_pages(engine: Engine, inbox_filter: InboxFilter, now: datetime) -> QueuePages:
    """The rows of `inbox_filter`, read on demand, all at the one instant `now` so that
    pages read later stay consistent with the first."""

    def fetch(after: InboxKey | None, limit: int, reverse: bool) -> list[InboxRow]:
        return inbox_page(engine, inbox_filter, after, limit, now=now, reverse=reverse)

    def count() -> int:
        return inbox_count(engine, inbox_filter, now)

    return QueuePages(fetch, inbox_filter.sort, count)


def load_queue_page(target: MessagePump, engine: Engine, inbox_filter: InboxFilter,
                    now: datetime, generation: int, near: int | None, counted: bool) -> None:
    """The first chunk of a filter (and the count, when the list had one, so a cursor
    near the end stays reachable). On a reload that keeps the cursor, the rows around
    row `near` too: the conversation under the cursor is looked for there, wherever new
    arrivals have pushed it (`ConversationList.show`)."""
    pages = queue_pages(engine, inbox_filter, now)
    pages.row(0)
    if counted:
        pages.jump_to_end()
    if near is not None:
        pages.read_around(near, FOLLOW_ROWS)
    if not get_current_worker().is_cancelled:
        target.post_message(QueuePageLoaded(generation, pages, keep_cursor=near is not None))


def load_queue_rows(target: MessagePump, pages: QueuePages, indices: list[int]) -> None:
    """The chunks rows `indices` need: read ahead of the cursor, or drawn blank."""
    for index in indices:
        pages.row(index)
    target.post_message(QueueRowsLoaded(pages))


def count_queue_rows(target: MessagePump, pages: QueuePages) -> None:
    """End: count the rows once; the last ones are read when drawn."""
    pages.jump_to_end()
    target.post_message(QueueRowsLoaded(pages, counted=True))


def check_search_limit(target: MessagePump, engine: Engine, words: str,
                       generation: int) -> None:
    """A second full-text query, asked only once a final count is shown."""
    target.post_message(SearchLimitChecked(generation, search_hits_limit(engine, words)))


def load_inbox_choices(target: MessagePump, engine: Engine, cycle: str) -> None:
    target.post_message(InboxChoicesLoaded(inbox_choices(engine), cycle))


def read_account_health(target: MessagePump, engine: Engine) -> None:
    target.post_message(AccountHealthRead(unhealthy_accounts(engine)))


def read_stale_detection(target: MessagePump, engine: Engine, settings: Settings) -> None:
    """Posts only when some account's spans need a rescan. Imported here, in the worker:
    the check builds on the detector's modules, which the first screen does not need."""
    from socialdesk.privacy.detector_settings import RESCAN_HINT
    from socialdesk.privacy.rescan import stale_accounts

    stale = stale_accounts(engine, settings)
    if stale:
        target.post_message(StaleDetectionRead(stale, RESCAN_HINT))


def warm_filters(engine: Engine, views: list[InboxFilter], now: datetime) -> None:
    """Read each view a single key switches to once: its first row, its count and its
    last row (End). Posts nothing: the reads only fill the database's page cache."""
    refresh_statistics(engine)  # a store only the desk opens would never get them
    for view in views:
        for read in (partial(inbox_page, engine, view, None, 1, now=now),
                     partial(inbox_count, engine, view, now),
                     partial(inbox_page, engine, view, None, 1, now=now, reverse=True)):
            if get_current_worker().is_cancelled:
                return
            read()


def read_conversation(engine: Engine, conversation_id: int) -> ConversationContent:
    """The conversation, its customer card and the redirects waiting for the operator."""
    view = conversation_view(engine, conversation_id)
    if view is None:
        return ConversationContent(conversation_id, None, None, [])
    card = customer_card(engine, view.contact_id) if view.contact_id else None
    return ConversationContent(conversation_id, view, card,
                               pending_suggestions(engine, conversation_id))


def load_later_modules(target: MessagePump, modules: tuple[str, ...], engine: Engine,
                       conversation_id: int, keymap_ids: set[str],
                       binding_ids: Callable[[], set[str]]) -> None:
    """What the first screen's keys lead to: the modules, the conversation under the
    cursor (0: none), and which `[tui.keymap]` ids name no binding."""
    for module in modules:
        importlib.import_module(module)
    gc.freeze()  # the modules live as long as the app: see `DeskApp.on_mount`
    content = (read_conversation(engine, conversation_id) if conversation_id
               else ConversationContent(conversation_id, None, None, []))
    target.post_message(LaterModulesLoaded(content, sorted(keymap_ids - binding_ids())))


def load_conversation(target: MessagePump, engine: Engine, conversation_id: int,
                      generation: int = 0, opener: Screen[object] | None = None) -> None:
    target.post_message(ConversationLoaded(read_conversation(engine, conversation_id),
                                           generation, opener))


def read_assignees(target: MessagePump, engine: Engine) -> None:
    target.post_message(AssigneesRead(known_assignees(engine)))


def read_history_previews(target: MessagePump, engine: Engine,
                          conversation_ids: list[int]) -> None:
    target.post_message(HistoryPreviewsRead(customer_previews(engine, conversation_ids)))


PrivateKind = tuple[str | None, str | None]
"""`send_private`'s own choice (`direct_message`/`private_reply`), or why none is open."""


def private_kind(engine: Engine, contact_id: int, conversation_id: int,
                 settings: Settings | None, clock: Clock) -> PrivateKind:
    """Where `send_private` would write to the customer now, or why it would refuse."""
    try:
        return str(private_channel(engine, contact_id, conversation_id=conversation_id,
                                   settings=settings, now=clock)), None
    except SocialdeskError as error:
        return None, error.message


def read_private_channel(target: MessagePump, read: Callable[[], PrivateKind]) -> None:
    target.post_message(PrivateChannelChosen(*read()))


def find_choices(target: MessagePump, lookup: Callable[[str], list[Choice]],
                 text: str) -> None:
    """A pick list's lines for `text`, when finding them reads the store (merge)."""
    target.post_message(ChoicesFound(text, lookup(text)))


def count_dashboard(target: MessagePump, engine: Engine, now: datetime, zone: tzinfo,
                    days: int) -> None:
    """Two weeks of a million-message store take a few hundred milliseconds to count."""
    figures = dashboard_figures(engine, now, zone, days)
    if not get_current_worker().is_cancelled:
        target.post_message(DashboardCounted(figures))
