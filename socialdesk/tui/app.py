"""The desk application: screens, global keys, the change poller and the background sync."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterable
from datetime import datetime
from functools import partial

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from socialdesk.store.queries.queue import latest_change
from socialdesk.tui.context import Desk
from socialdesk.tui.messages import ActionFailed, FollowsQueue, QueueChanged
from socialdesk.tui.screens.dashboard_screen import DashboardScreen
from socialdesk.tui.screens.modals import ChoiceModal, ConfirmModal, HelpScreen, NoteModal
from socialdesk.tui.screens.queue_screen import InboxScreen
from socialdesk.tui.widgets.queue_list import ConversationList

CONVERSATION_SCREEN = "conversation"
NO_CONVERSATION = 0
"""What the conversation screen is built on before the first Enter (ids start at 1);
`ConversationScreen.show` fills it before it is first shown."""

LATER_MODULES = ("socialdesk.tui.screens.conversation_screen",)
"""Not needed for the first screen, imported just after it (a tenth of a second: the send
paths, the privacy guard, the outbox, fuzzy matching; benchmarks/tui.py)."""


class DeskApp(App[None]):
    """socialdesk's TUI. Build it with `make_app`, as the CLI and the tests do."""

    TITLE = "socialdesk"
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help",
                tooltip="Every key on this screen, with what it does"),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave socialdesk"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self._last_change: datetime | None = None
        self._clashes_reported: set[frozenset[str]] = set()
        if desk.keymap:
            self.set_keymap(desk.keymap)

    def on_mount(self) -> None:
        self._last_change = latest_change(self.desk.engine)
        self.push_screen(InboxScreen())
        self.call_after_refresh(self.load_the_rest)
        # Everything loaded so far (modules, phone metadata, the mapper registry) lives as
        # long as the app: keep it out of the collector's full passes, which otherwise
        # paused keystrokes for ~100 ms at a million-row store (benchmarks/tui.py).
        # `socialdesk tui` starts with collection off (see cli.tui).
        gc.freeze()
        gc.enable()
        if self.desk.poll_seconds > 0:
            self.set_interval(self.desk.poll_seconds, self.check_for_changes)
        if self.desk.background_sync is not None:
            self.set_interval(self.desk.background_seconds, self.run_background_sync)

    @work(thread=True, exclusive=True, exit_on_error=False, group="start")
    def load_the_rest(self) -> None:
        """After the first screen: the modules its keys lead to, then the keymap's check
        (which needs every screen's bindings)."""
        for module in LATER_MODULES:
            importlib.import_module(module)
        gc.freeze()
        self.call_from_thread(self._build_conversation_screen)  # type: ignore[arg-type]
        unknown = sorted(set(self.desk.keymap) - binding_ids())
        if unknown:
            self.call_from_thread(
                self.notify, f"[tui.keymap] names no such binding: {', '.join(unknown)} "
                "(the README's key table lists the ids)", title="config",
                severity="warning", markup=False)

    async def _build_conversation_screen(self) -> None:
        """Compose the conversation screen before the first Enter, unseen: built on Enter it
        cost the first one 20 to 50 ms more than the later ones (benchmarks/tui.py).
        Textual has no public call for this; its `push_screen` does the same first step,
        and without it the first Enter builds the screen as before."""
        from socialdesk.tui.screens.conversation_screen import ConversationScreen

        build = getattr(self, "_get_screen", None)
        if build is None or self.is_screen_installed(CONVERSATION_SCREEN):
            return
        inbox = self.screen if isinstance(self.screen, InboxScreen) else None
        row = inbox.queue.current if inbox is not None else None
        # On the row under the cursor, the likely first Enter: with no message to show,
        # the first Enter still paid for the thread's first layout.
        screen, mounted = build(ConversationScreen(row.id if row else NO_CONVERSATION))
        await mounted
        if self.is_screen_installed(CONVERSATION_SCREEN):  # an Enter came first
            await screen.remove()
        else:
            self.install_screen(screen, CONVERSATION_SCREEN)

    async def open_conversation(self, conversation_id: int) -> None:
        """On the desk's one conversation screen, kept between Enters; a second one only when
        that screen is already open underneath (`o` from a conversation: Esc comes back)."""
        from socialdesk.tui.screens.conversation_screen import (
            ConversationScreen,  # see LATER_MODULES
        )

        if not self.is_screen_installed(CONVERSATION_SCREEN):
            self.install_screen(ConversationScreen(conversation_id), CONVERSATION_SCREEN)
        else:
            shared = self.get_screen(CONVERSATION_SCREEN)
            if shared in self.screen_stack:
                self.push_screen(ConversationScreen(conversation_id))
                return
            await shared.show(conversation_id)  # type: ignore[attr-defined]
        self.push_screen(CONVERSATION_SCREEN)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_dashboard(self) -> None:
        self.push_screen(DashboardScreen())

    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def check_for_changes(self) -> None:
        """Posts `QueueChanged` when `max(updated_at)` moved (SQLite has no notifications)."""
        newest = latest_change(self.desk.engine)
        if not get_current_worker().is_cancelled and newest != self._last_change:
            self._last_change = newest
            self.post_message(QueueChanged())

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync")
    def run_background_sync(self) -> None:
        if self.desk.background_sync is not None:
            self.desk.background_sync()
        self.call_from_thread(self.check_for_changes)

    def on_queue_changed(self, _event: QueueChanged) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, FollowsQueue):
                screen.queue_changed()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed poll or background sync becomes a notice; the desk keeps running."""
        if event.state == WorkerState.ERROR:
            self.notify(f"{event.worker.name}: {event.worker.error}",
                        title="background task failed", severity="error")

    def on_action_failed(self, event: ActionFailed) -> None:
        self.notify(event.detail, title=event.title, severity="error")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette lists every key of the current screen, so nothing is hidden."""
        yield from super().get_system_commands(screen)
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.system or binding.action in seen or not active.enabled:
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
    from socialdesk.tui.widgets.composer import ComposerModal  # see LATER_MODULES

    return (DeskApp, InboxScreen, ConversationList, ConversationScreen, DashboardScreen,
            ComposerModal, NoteModal, ChoiceModal, ConfirmModal, HelpScreen)


def binding_ids() -> set[str]:
    """The ids of every binding in the desk."""
    return {binding.id for owner in binding_owners() for binding in owner.BINDINGS
            if isinstance(binding, Binding) and binding.id}


def make_app(desk: Desk) -> DeskApp:
    """The one factory: `socialdesk tui`, `socialdesk demo` and the tests all start here."""
    return DeskApp(desk)
