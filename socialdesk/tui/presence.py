"""Who is where: this desk's heartbeats, and the colleagues it last heard from.

A heartbeat says which conversation is open here and whether an answer is being typed in
it; it also renews the conversations this desk took (`store.team`). It goes on a timer
and at once when the operator moves (a conversation opened or left, the composer's first
letter or its last one deleted), one at a time so the newest state is the one stored. An
operator idle for `IDLE_SECONDS` sends none: their presence and their holds lapse, and
come back at their next key. Each heartbeat reads the other desks back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from textual.screen import ModalScreen

from socialdesk.tui.presence_text import Colleagues
from socialdesk.tui.team_workers import leave_desk, send_heartbeat
from socialdesk.tui.workers import start_worker

if TYPE_CHECKING:
    from socialdesk.tui.app import DeskApp

IDLE_SECONDS = 300.0
"""No key for this long and the desk stops its heartbeats: a manager gone for coffee
leaves the conversations they took to the others (after `store.team.HOLD_SECONDS`)."""

@dataclass(frozen=True)
class Where:
    """What a heartbeat says: the conversation open on this desk, and whether the
    operator is typing an answer in it."""

    conversation_id: int | None
    typing: bool = False


@runtime_checkable
class ShowsConversation(Protocol):
    """A screen showing one conversation (the conversation screen)."""

    @property
    def conversation_id(self) -> int: ...


@runtime_checkable
class Composing(Protocol):
    """A screen an answer is written in (the composer)."""

    @property
    def has_text(self) -> bool: ...


def where_on(app: DeskApp) -> Where:
    """Where the operator is: the conversation under the modals in front (a composer, a
    pick list), or none on the queue and the dashboard."""
    typing = isinstance(app.screen, Composing) and app.screen.has_text
    for screen in reversed(app.screen_stack):
        if isinstance(screen, ShowsConversation):
            return Where(screen.conversation_id, typing)
        if not isinstance(screen, ModalScreen):
            break
    return Where(None)


class Heartbeats:
    """This desk's presence, kept by the app: `moved` after anything that may change
    where the operator is, `tick` on the timer, `touched` at every key."""

    def __init__(self, app: DeskApp) -> None:
        self.app = app
        self.colleagues = Colleagues()
        """The other desks, as the last heartbeat read them."""
        self.sent: Where | None = None
        self._in_flight = False
        self._again = False
        self._left = not app.desk.heartbeat_seconds > 0
        """Quit, or never there: a desk without heartbeats has no presence at all."""
        self.lock = threading.Lock()
        """Heartbeats and the leave at quitting, one at a time: a heartbeat finishing
        after the leave would bring the desk back for `PRESENCE_TTL_SECONDS`."""
        self._last_key = app.desk.clock()
        self._troubled = False

    @property
    def idle(self) -> bool:
        return self.app.desk.clock() - self._last_key > timedelta(seconds=IDLE_SECONDS)

    def moved(self) -> None:
        """Tell the colleagues at once when the operator is somewhere else now."""
        if where_on(self.app) != self.sent:
            self.beat()

    def say_again(self) -> None:
        """The store forgot where this desk is (`store.team.release`): tell it again."""
        self.sent = None
        self.moved()

    def tick(self) -> None:
        self.beat()

    def touched(self) -> None:
        """A key: an idle desk is back (and says so at once)."""
        was_idle = self.idle
        self._last_key = self.app.desk.clock()
        if was_idle:
            self.beat()

    def beat(self) -> None:
        """Send where the operator is (nothing while idle) and read the others back; after
        the one in flight when one is."""
        if self._left:
            return
        if self._in_flight:
            self._again = True
            return
        self._in_flight = True
        where = None if self.idle else where_on(self.app)
        desk = self.app.desk
        start_worker(self.app, partial(send_heartbeat, self.app, desk.engine, desk.desk_id,
                                       desk.operator.initials, where, self.lock),
                     group="heartbeat")
        if where is not None:
            self.sent = where

    def finished(self) -> None:
        """The heartbeat in flight ended (stored or not): the next may go."""
        self._in_flight = False
        if self._again:
            self._again = False
            self.beat()

    def read(self, colleagues: Colleagues | None, trouble: str | None = None) -> bool:
        """The other desks as read back; False when nothing changed on screen. A failure
        is said once, not at every heartbeat, until one succeeds again."""
        if colleagues is None:
            if not self._troubled and trouble:
                self._troubled = True
                self.app.notify(f"Colleagues' presence is not updated: {trouble}",
                                title="team", severity="warning", markup=False)
            return False
        self._troubled = False
        changed = colleagues.shown() != self.colleagues.shown()
        self.colleagues = colleagues
        return changed

    def leave(self) -> None:
        """Quitting: no more heartbeats; the presence row and the holds go (blocking: run
        it off the event loop)."""
        self._left = True
        desk = self.app.desk
        leave_desk(desk.engine, desk.desk_id, self.lock)

