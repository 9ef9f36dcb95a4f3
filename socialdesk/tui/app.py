"""The desk application: screens, global keys, the write queue and the background sync
(team mode, the change feed and the poller: `team_mode`)."""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from functools import partial

from rich.terminal_theme import TerminalTheme
from textual import events
from textual.app import SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.message_pump import MessagePump
from textual.reactive import Reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from socialdesk.tui.context import Desk
from socialdesk.tui.messages import (
    ActionFailed,
    ConversationContent,
    ConversationLoaded,
    FollowsQueue,
    LaterModulesLoaded,
    LatestChangeRead,
    QueueChanged,
    StaleDetectionRead,
)
from socialdesk.tui.presence import Heartbeats
from socialdesk.tui.screens.dashboard_screen import DashboardScreen
from socialdesk.tui.screens.modals import ChoiceModal, ConfirmModal, HelpScreen, NoteModal
from socialdesk.tui.screens.queue_screen import InboxScreen
from socialdesk.tui.team_mode import TeamMode
from socialdesk.tui.widgets.queue_list import ConversationList
from socialdesk.tui.workers import (
    DeskCall,
    load_conversation,
    load_later_modules,
    read_latest_change,
    read_stale_detection,
    run_background_sync,
    run_desk_call,
    start_worker,
)

CONVERSATION_SCREEN = "conversation"
NO_CONVERSATION = 0
"""What the conversation screen is built on before the first Enter (ids start at 1);
`ConversationScreen.show` fills it before it is first shown."""

FINISHED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)
"""A write worker in one of these states lets the next queued write start."""

TEXTUAL_COMMANDS_KEPT = frozenset({"Theme"})
"""Textual's own palette commands the desk keeps (`get_system_commands`)."""

LATER_MODULES = ("socialdesk.tui.screens.conversation_screen",)
"""Not needed for the first screen, imported just after it (a tenth of a second: the send
paths, the privacy guard, the outbox, fuzzy matching; benchmarks/tui.py)."""


DARK_PALETTE = TerminalTheme(
    (12, 12, 12), (217, 217, 217),
    [(26, 26, 26), (244, 0, 95), (152, 224, 36), (224, 213, 97), (157, 101, 255),
     (244, 0, 95), (88, 209, 235), (196, 197, 181)],
    [(98, 94, 76), (244, 0, 95), (152, 224, 36), (224, 213, 97), (157, 101, 255),
     (244, 0, 95), (88, 209, 235), (246, 246, 239)],
)
"""How ANSI colours (the status dots, the card's warnings) are drawn on a dark theme:
Textual's own palette (Monokai) with a yellow that is yellow. Monokai's is orange
(#fd971f), and "open" is yellow. A light theme keeps Textual's (Alabaster), whose dark
yellow reads on white."""


class DeskApp(TeamMode):
    """socialdesk's TUI. Build it with `make_app`, as the CLI and the tests do."""

    TITLE = "socialdesk"
    ansi_theme_dark = Reactive(DARK_PALETTE, init=False)
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help",
                tooltip="Every key on this screen, with what it does"),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave socialdesk"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self._last_change: datetime | None = None
        self._change_seen = False
        """Whether `_last_change` was read yet: the first read is the baseline, no change."""
        self._clashes_reported: set[frozenset[str]] = set()
        self._held_keys: list[events.Key] | None = None
        """Keys pressed while the screen they are meant for is being read (`hold_keys`)."""
        self._writes: deque[tuple[MessagePump, DeskCall]] = deque()
        self._writing = False
        self.heartbeats = Heartbeats(self)
        if desk.keymap:
            self.set_keymap(desk.keymap)
        if desk.theme in self.available_themes:
            self.theme = desk.theme

    def on_mount(self) -> None:
        if self.desk.theme is not None and self.desk.theme not in self.available_themes:
            self.notify(f"[tui] theme: no theme named {self.desk.theme!r}; the desk knows "
                        + ", ".join(sorted(self.available_themes)), title="config",
                        severity="warning", markup=False)
        self.check_for_changes()
        self.push_screen(InboxScreen())  # which calls `load_the_rest` once it has rows
        # Everything loaded so far (modules, phone metadata, the mapper registry) lives as
        # long as the app: keep it out of the collector's full passes, which otherwise
        # paused keystrokes for ~100 ms at a million-row store (benchmarks/tui.py).
        # `socialdesk tui` starts with collection off (see cli.tui).
        gc.freeze()
        gc.enable()
        self.start_team_mode()  # heartbeats; changes by LISTEN on PostgreSQL, else polled
        if self.desk.background_sync is not None:
            self.set_interval(self.desk.background_seconds, self.run_background_sync)
        if self.desk.settings is not None:
            start_worker(self, partial(read_stale_detection, self, self.desk.engine,
                                       self.desk.settings), group="detection")

    def on_stale_detection_read(self, event: StaleDetectionRead) -> None:
        self.notify(f"{', '.join(event.accounts)}: {event.hint}", title="privacy",
                    severity="warning", timeout=30, markup=False)

    def load_the_rest(self) -> None:
        """After the first page is drawn: the modules its keys lead to, the conversation
        under the cursor (the likely first Enter), then the keymap's check (which needs
        every screen's bindings)."""
        inbox = self.screen if isinstance(self.screen, InboxScreen) else None
        row = inbox.queue.current if inbox is not None else None
        start_worker(self, partial(load_later_modules, self, LATER_MODULES, self.desk.engine,
                                   row.id if row else NO_CONVERSATION, set(self.desk.keymap),
                                   binding_ids), group="start", exclusive=True)

    async def on_later_modules_loaded(self, event: LaterModulesLoaded) -> None:
        await self._build_conversation_screen(event.content)
        if event.unknown_bindings:
            self.notify(f"[tui.keymap] names no such binding: "
                        f"{', '.join(event.unknown_bindings)} "
                        "(the README's key table lists the ids)", title="config",
                        severity="warning", markup=False)

    async def _build_conversation_screen(self, content: ConversationContent) -> None:
        """Compose the conversation screen before the first Enter, unseen: built on Enter it
        cost the first one 20 to 50 ms more than the later ones (benchmarks/tui.py).
        Textual has no public call for this; its `push_screen` does the same first step,
        and without it the first Enter builds the screen as before. It is built on the row
        under the cursor, the likely first Enter: with no message to show, the first Enter
        still paid for the thread's first layout."""
        from socialdesk.tui.screens.conversation_screen import ConversationScreen

        build = getattr(self, "_get_screen", None)
        if build is None or self.is_screen_installed(CONVERSATION_SCREEN):
            return
        screen, mounted = build(ConversationScreen(content))
        await mounted
        if self.is_screen_installed(CONVERSATION_SCREEN):  # an Enter came first
            await screen.remove()
        else:
            self.install_screen(screen, CONVERSATION_SCREEN)

    def open_conversation(self, conversation_id: int) -> None:
        """Read the conversation in a worker, then show it (`on_conversation_loaded`). The
        keys pressed meanwhile wait for it: they are meant for the conversation."""
        self.hold_keys()
        start_worker(self, partial(load_conversation, self, self.desk.engine, conversation_id,
                                   opener=self.screen), group="open", exclusive=True)

    async def on_conversation_loaded(self, event: ConversationLoaded) -> None:
        """On the desk's one conversation screen, kept between Enters; a second one only when
        that screen is already open underneath (`o` from a conversation: Esc comes back).
        Shown only if the operator is still where they asked from."""
        try:
            if event.opener is self.screen:
                await self.show_conversation(event.content)
        finally:
            self.release_keys()

    async def show_conversation(self, content: ConversationContent) -> None:
        from socialdesk.tui.screens.conversation_screen import (
            ConversationScreen,  # see LATER_MODULES
        )

        if not self.is_screen_installed(CONVERSATION_SCREEN):
            self.install_screen(ConversationScreen(content), CONVERSATION_SCREEN)
        else:
            shared = self.get_screen(CONVERSATION_SCREEN)
            if shared in self.screen_stack:
                await self.push_screen(ConversationScreen(content))
                return
            await shared.show(content)  # type: ignore[attr-defined]
        await self.push_screen(CONVERSATION_SCREEN)

    def hold_keys(self) -> None:
        """Keep the keys pressed from now until `release_keys`: the screen they are meant
        for is being read. The loop goes on drawing and polling meanwhile."""
        if self._held_keys is None:
            self._held_keys = []

    def release_keys(self) -> None:
        """Replay the held keys, in order, to whatever screen is now in front."""
        held, self._held_keys = self._held_keys or [], None
        for key in held:
            self.post_message(events.Key(key.key, key.character))

    @property
    def busy(self) -> bool:
        """Whether a read or write is in flight, or keys wait for one (tests settle on it)."""
        return bool(len(self.workers)) or self._held_keys is not None or self._writing

    def write(self, target: MessagePump, call: DeskCall) -> None:
        """Run a desk action in a worker, after the ones queued before it: `1` then `3`
        must leave the conversation resolved, whichever thread would have been faster."""
        self._writes.append((target, call))
        if not self._writing:
            self._next_write()

    def _next_write(self) -> None:
        self._writing = bool(self._writes)
        if self._writes:
            target, call = self._writes.popleft()
            start_worker(self, partial(run_desk_call, target, call), group="write")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "write" and event.state in FINISHED:
            self._next_write()
        elif event.worker.group == "heartbeat" and event.state in FINISHED:
            self.heartbeats.finished()

    async def on_unmount(self) -> None:
        await self.stop_team_mode()

    async def on_event(self, event: events.Event) -> None:
        """Keys wait here while held (`hold_keys`); everything else goes on as usual. A
        key also tells the heartbeats the operator is here."""
        if isinstance(event, events.Key):
            self.heartbeats.touched()
        if (self._held_keys is not None and isinstance(event, events.Key)
                and not event.is_forwarded):
            self._held_keys.append(event)
            return
        await super().on_event(event)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_dashboard(self) -> None:
        self.push_screen(DashboardScreen())

    def check_for_changes(self) -> None:
        """Posts `QueueChanged` when `max(updated_at)` moved (SQLite has no notifications)."""
        start_worker(self, partial(read_latest_change, self, self.desk.engine), group="poll",
                     exclusive=True)

    def on_latest_change_read(self, event: LatestChangeRead) -> None:
        changed = self._change_seen and event.newest != self._last_change
        self._last_change, self._change_seen = event.newest, True
        if changed:
            self.post_message(QueueChanged())

    def run_background_sync(self) -> None:
        if self.desk.background_sync is not None:
            start_worker(self, partial(run_background_sync, self, self.desk.background_sync,
                                       self.desk.engine), group="sync", exclusive=True)

    def on_queue_changed(self, _event: QueueChanged) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, FollowsQueue):
                screen.queue_changed()

    def on_action_failed(self, event: ActionFailed) -> None:
        """A failed read, action, poll or background sync becomes a notice; the desk keeps
        running. Keys held for a screen that will not come are let go."""
        self.release_keys()
        self.notify(event.detail, title=event.title, severity="error")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette lists socialdesk's keys on the current screen, Quit once among them,
        and Textual's theme switch. Textual's own commands (Copy, Focus Next, Keys,
        Screenshot, Maximize, scrolling) are left out: none of them is desk work, and
        Textual's Quit came in twice beside ours."""
        yield from (command for command in super().get_system_commands(screen)
                    if command.title in TEXTUAL_COMMANDS_KEPT)
        ours = binding_ids()
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.id not in ours or binding.action in seen or not active.enabled:
                continue
            seen.add(binding.action)
            key = self.get_key_display(binding)
            yield SystemCommand(f"{binding.description or binding.action} ({key})",
                                binding.tooltip or binding.description,
                                partial(self._run_binding, active.node, binding.action))

    def _run_binding(self, node: object, action: str) -> None:
        self.call_later(self.run_action, action, node)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:  # noqa: ARG002
        """A `[tui.keymap]` key already used on that screen: say so once, keep the desk up."""
        ids = frozenset(binding.id or binding.action for binding in clashed_bindings)
        if ids not in self._clashes_reported:
            self._clashes_reported.add(ids)
            self.notify("[tui.keymap] gives one key to several bindings: "
                        + ", ".join(sorted(ids)),
                        title="config", severity="warning", markup=False)


def binding_owners() -> tuple[type[DOMNode], ...]:
    """Every class whose BINDINGS carry the ids `[tui.keymap]` may rebind."""
    from socialdesk.tui.screens.conversation_screen import ConversationScreen
    from socialdesk.tui.screens.public_answer_question import PublicAnswerQuestion
    from socialdesk.tui.widgets.composer import ComposerModal  # see LATER_MODULES

    return (DeskApp, InboxScreen, ConversationList, ConversationScreen, DashboardScreen,
            ComposerModal, NoteModal, ChoiceModal, ConfirmModal, HelpScreen,
            PublicAnswerQuestion)


def binding_ids() -> set[str]:
    """The ids of every binding in the desk."""
    return {binding.id for owner in binding_owners() for binding in owner.BINDINGS
            if isinstance(binding, Binding) and binding.id}


def make_app(desk: Desk) -> DeskApp:
    """The one factory: `socialdesk tui`, `socialdesk demo` and the tests all start here."""
    return DeskApp(desk)
