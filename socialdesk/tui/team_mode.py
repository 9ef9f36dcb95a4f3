"""The desk's part in a team: take next, who is where, and live updates.

`DeskApp` builds on this. Every store call runs in a thread worker (`team_workers`) or,
for the change feed, in a thread of its own (`live_feed`); the handlers here keep the
state and tell the screens.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App

from socialdesk.store.live_updates import PROBE_TABLE
from socialdesk.tui.live_feed import ANY_TABLE, LiveFeed
from socialdesk.tui.messages import (
    ConversationContent,
    ConversationTaken,
    FeedUnavailable,
    FollowsPresence,
    PresenceFailed,
    PresenceRead,
    QueueChanged,
    StoreChanged,
    TypingChanged,
)
from socialdesk.tui.presence import Heartbeats, ShowsConversation
from socialdesk.tui.screens.queue_screen import InboxScreen
from socialdesk.tui.team_workers import send_heartbeat, take_conversation
from socialdesk.tui.workers import start_worker

if TYPE_CHECKING:
    from textual.screen import Screen

    from socialdesk.tui.context import Desk

PRESENCE_TABLES = frozenset({"presence", "hold"})
"""Changes that move no conversation: only who is where is read again."""

IGNORED_TABLES = frozenset({PROBE_TABLE})
"""The feed's own latency probes (`live_updates.notify_latency`): nothing changed."""

NOTHING_TO_TAKE = ("Nothing left to take: in this view every conversation is answered, "
                   "resolved, assigned to someone else or with a colleague")


class TeamMode(App[None]):
    """Presence, take next and the change feed; `start_team_mode` from `on_mount`."""

    desk: Desk
    heartbeats: Heartbeats
    _feed: LiveFeed | None = None
    _taken: int | None = None
    """The conversation this desk took last: released when it takes the next one."""

    def start_team_mode(self) -> None:
        """Heartbeats on a timer and at every change of screen; changes from the feed on
        PostgreSQL, from polling on SQLite (or wherever the feed is refused)."""
        if self.desk.heartbeat_seconds > 0:
            self.screen_change_signal.subscribe(self, self._screen_changed)
            self.set_interval(self.desk.heartbeat_seconds, self.heartbeats.tick)
            self.heartbeats.beat()
        if self.desk.poll_seconds <= 0:
            return
        if self.desk.engine.dialect.name == "postgresql":
            self._feed = LiveFeed(self, self.desk.engine)
            self._feed.start()
        else:
            self.start_polling()

    def start_polling(self) -> None:
        """Every `poll_seconds`, `max(updated_at)`; and who is where at each heartbeat."""
        self.set_interval(self.desk.poll_seconds, self.check_for_changes)

    if TYPE_CHECKING:  # DeskApp's
        def check_for_changes(self) -> None: ...
        async def show_conversation(self, content: ConversationContent) -> None: ...
        def hold_keys(self) -> None: ...
        def release_keys(self) -> None: ...

    def _screen_changed(self, _screen: Screen[object]) -> None:
        """Once the new screen is painted: the heartbeat's write never delays it."""
        self.call_after_refresh(self.heartbeats.moved)

    def on_typing_changed(self, _event: TypingChanged) -> None:
        self.heartbeats.moved()

    def on_presence_read(self, event: PresenceRead) -> None:
        if self.heartbeats.read(event.colleagues):
            for screen in self.screen_stack:
                if isinstance(screen, FollowsPresence):
                    screen.presence_changed(event.colleagues)

    def on_presence_failed(self, event: PresenceFailed) -> None:
        self.heartbeats.read(None, event.detail)

    def on_feed_unavailable(self, _event: FeedUnavailable) -> None:
        self._feed = None
        self.start_polling()

    def on_store_changed(self, event: StoreChanged) -> None:
        """A colleague's change (or a sync's): the screens read the store again; only who
        is where, when only presence or holds changed."""
        if event.tables - PRESENCE_TABLES - IGNORED_TABLES:
            self.post_message(QueueChanged())
        if event.tables & (PRESENCE_TABLES | {ANY_TABLE}):
            desk = self.desk
            start_worker(self, partial(send_heartbeat, self, desk.engine, desk.desk_id,
                                       desk.operator.initials, None, self.heartbeats.lock),
                         group="presence", exclusive=True)

    def take_next(self) -> None:
        """The longest-waiting conversation nobody holds, within the queue's filters, held
        for this desk and opened. The keys pressed meanwhile are meant for it."""
        inbox = next((screen.inbox_filter for screen in reversed(self.screen_stack)
                      if isinstance(screen, InboxScreen)), None)
        desk = self.desk
        self.hold_keys()
        start_worker(self, partial(take_conversation, self, desk.engine, desk.desk_id,
                                   desk.operator.initials, inbox, self._taken,
                                   desk.clock()),
                     group="take", exclusive=True)

    async def on_conversation_taken(self, event: ConversationTaken) -> None:
        try:
            if event.content is None:
                self._taken = None
                self.notify(NOTHING_TO_TAKE)
                return
            self._taken = event.content.conversation_id
            if isinstance(self.screen, ShowsConversation):  # the next one, in its place
                await self.screen.show(event.content)  # type: ignore[attr-defined]
                self.heartbeats.moved()
            else:
                await self.show_conversation(event.content)
            self.notify(f"Taken: yours ({self.desk.operator.initials}) until you resolve it "
                        "or quit; colleagues' take next skips it")
        finally:
            self.release_keys()

    def released(self, conversation_id: int) -> None:
        """The conversation this desk held was resolved: its hold is gone."""
        if self._taken == conversation_id:
            self._taken = None

    async def stop_team_mode(self) -> None:
        """Quitting: the feed's thread ends, the presence row and the holds go (off the
        event loop: the store may be a network away)."""
        if self._feed is not None:
            await asyncio.to_thread(self._feed.stop)
        if self.desk.heartbeat_seconds > 0:
            await asyncio.to_thread(self.heartbeats.leave)
