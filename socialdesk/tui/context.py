"""What the screens need from outside: the store, who is at the keyboard, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from socialdesk.clock import Clock, system_clock
from socialdesk.tui.times import DEFAULT_ZONE

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from socialdesk.config import Settings


@dataclass(frozen=True)
class Operator:
    """The person at the keyboard: every note and action is signed with their initials."""

    initials: str
    name: str | None = None


@dataclass(frozen=True)
class SavedReply:
    name: str
    language: str
    text: str


@dataclass
class Desk:
    """Everything the app reads and acts on, built by the CLI (or a test) and handed in."""

    engine: Engine
    operator: Operator
    saved_replies: list[SavedReply] = field(default_factory=list)
    clock: Clock = system_clock
    poll_seconds: float = 3.0
    """How often the queue checks `max(updated_at)` for changes on SQLite, which has no
    notify; PostgreSQL tells the desk at once (LISTEN). 0: the desk watches for no
    changes at all (the tests drive them)."""
    heartbeat_seconds: float = 5.0
    """How often the desk tells its colleagues where it is (and renews what it took),
    besides at every move; 0: no presence at all."""
    desk_id: str = field(default_factory=lambda: uuid4().hex)
    """This desk session, in the store's presence and hold rows."""
    background_sync: Callable[[], Any] | None = None
    """Run every `background_seconds` in a thread worker (the demo's sandbox sync)."""
    background_seconds: float = 5.0
    settings: Settings | None = None
    """With settings an answer is sent at once; without, it waits in the outbox for a sync."""
    keymap: dict[str, str] = field(default_factory=dict)
    """`[tui.keymap]`: binding id -> key(s), applied when the app starts."""
    zone: ZoneInfo = DEFAULT_ZONE
    """`[hours] timezone`: every time the desk shows is in it (`socialdesk.tui.times`)."""
    theme: str | None = None
    """`[tui] theme`: a Textual theme name; None keeps Textual's default (dark)."""
    drafts: dict[tuple[int, bool], str] = field(default_factory=dict)
    """Unsent answers by (conversation id, private), kept for the session until sent or
    dropped (`answer_keys`)."""
