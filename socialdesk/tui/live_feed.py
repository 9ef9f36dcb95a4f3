"""Live updates on PostgreSQL: a thread waits on the store's change feed (LISTEN) and
tells the app which tables changed, so every desk shows a colleague's change within a
second instead of at the next poll. SQLite has no feed; there the app polls as before.

The thread is not a Textual worker: it runs as long as the desk, and the tests' "wait
until no worker runs" would never end. It touches no widget; it only posts messages.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from socialdesk.store.live_updates import CATCH_UP, ChangeFeed
from socialdesk.tui.messages import FeedUnavailable, StoreChanged

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from textual.message_pump import MessagePump

log = logging.getLogger(__name__)

WAIT_SECONDS = 0.5
"""How long one wait on the feed lasts: the longest a quitting desk waits for the thread."""

GAP_SECONDS = 0.2
"""After telling the app, the thread lets changes gather this long: a sync storing a page
of messages becomes one reload, not one per row."""

ANY_TABLE = CATCH_UP.table
"""The feed's catch-up change: anything may have changed, everything is read again."""

RETRY_SECONDS = 2.0
"""After the feed itself failed (it reconnects on its own; this is for what it did not
foresee), the thread waits this long before waiting on it again."""


class LiveFeed:
    """Started by the app on mount, stopped when it unmounts."""

    def __init__(self, target: MessagePump, engine: Engine,
                 opener: Callable[[Engine], ChangeFeed | None] = ChangeFeed.open) -> None:
        self._target = target
        self._engine = engine
        self._opener = opener
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="socialdesk-live-feed",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end and wait for it (at most one wait on the feed)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(WAIT_SECONDS * 4)

    def _run(self) -> None:
        try:
            feed = self._opener(self._engine)
        except Exception:  # a store that refuses LISTEN: the desk polls instead
            log.warning("live updates unavailable; the desk polls", exc_info=True)
            feed = None
        if feed is None:
            self._target.post_message(FeedUnavailable())
            return
        try:
            self._listen(feed)
        finally:
            feed.close()

    def _listen(self, feed: ChangeFeed) -> None:
        failed = False
        while not self._stop.is_set():
            try:
                changes = feed.wait(WAIT_SECONDS)
            except Exception:  # not the desk's to crash on: wait, then listen again
                if not failed:
                    log.warning("live updates interrupted; retrying", exc_info=True)
                failed = True
                self._stop.wait(RETRY_SECONDS)
                continue
            tables = {change.table for change in changes}
            if failed:  # back: what changed meanwhile is unknown, as after a reconnect
                failed = False
                tables.add(ANY_TABLE)
            if tables:
                self._target.post_message(StoreChanged(frozenset(tables)))
                self._stop.wait(GAP_SECONDS)
