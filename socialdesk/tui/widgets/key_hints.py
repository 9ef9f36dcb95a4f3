"""The line of keys at the bottom of every screen, help first."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static

HELP_ACTIONS = ("app.help", "help")
"""Shown first, so even 80 columns show how to find every other key."""
KEY_STYLE = "bold reverse"


class KeyHints(Static):
    """The screen's shown bindings on one line, as `key description`, help first.

    In place of Textual's Footer, which built a widget per key and rebuilt them all on
    every focus change: that was two thirds of the time to open a conversation at a
    million messages (benchmarks/tui.py), and at 80 columns it cut the line before `?`.
    Every binding stays listed by `?` and the command palette.
    """

    DEFAULT_CSS = """
    KeyHints {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.show_keys()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Screen[Any]) -> None:
        self.show_keys()

    def show_keys(self) -> None:
        line = Text(no_wrap=True, overflow="ellipsis")
        for key, description, enabled in self._keys():
            line.append(f" {key} ", style=KEY_STYLE if enabled else "dim")
            line.append(f"{description}  ", style="" if enabled else "dim")
        self.update(line, layout=False)  # one line always: a layout would repaint everything

    def _keys(self) -> list[tuple[str, str, bool]]:
        """Help, then the command palette (both list every key), then the screen's keys."""
        guides: list[tuple[str, str, bool]] = []
        keys: list[tuple[str, str, bool]] = []
        seen: set[str] = set()
        active = self.screen.active_bindings
        for _node, binding, enabled, _tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            entry = (self.app.get_key_display(binding), binding.description, enabled)
            (guides if binding.action in HELP_ACTIONS else keys).append(entry)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        if self.app.ENABLE_COMMAND_PALETTE and palette is not None:
            _node, binding, enabled, _tooltip = palette
            guides.append((self.app.get_key_display(binding), "Palette", enabled))
        return guides + keys
