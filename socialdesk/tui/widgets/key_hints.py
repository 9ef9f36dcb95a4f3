"""The line of keys at the bottom of every screen: the most used first, `?` always shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

HELP_ACTIONS = ("app.help", "help")
"""The help key: always on the line, last, so every other key can be found."""
KEY_STYLE = "bold reverse"
MORE = "All keys"
"""What help says when keys were left off the line."""
GAP = "  "


@dataclass(frozen=True)
class KeyHint:
    """One entry of the line: a key (or a group's keys) and what it does."""

    keys: str
    description: str
    enabled: bool
    rank: int
    """Its place in the screen's `KEY_LINE`; keys the screen does not rank come after."""

    @property
    def cells(self) -> int:
        """Its width on the line, with the gap before the next one."""
        return cell_len(f" {self.keys} {self.description}{GAP}")


class KeyHints(Static):
    """The screen's shown bindings on one line, as `key description`.

    The screen's `KEY_LINE` (binding ids, most used first) orders them; the others follow
    in binding order. Keys that do not fit are left off whole, never cut mid-word, and the
    help key stays at the end: at 80 columns the conversation's line used to stop at
    `i Assign me   u`, hiding reply, private, hide and redirect. `?` lists every key.

    In place of Textual's Footer, which built a widget per key and rebuilt them all on
    every focus change: that was two thirds of the time to open a conversation at a
    million messages (benchmarks/tui.py).
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

    def on_resize(self, _event: events.Resize) -> None:
        self.show_keys()

    def _bindings_changed(self, _screen: Screen[Any]) -> None:
        self.show_keys()

    def show_keys(self) -> None:
        width = self.size.width or self.app.size.width
        line = Text(no_wrap=True, overflow="ellipsis")
        for number, hint in enumerate(fitting(*self._hints(), width)):
            if number:
                line.append(GAP)
            line.append(f" {hint.keys} ", style=KEY_STYLE if hint.enabled else "dim")
            line.append(hint.description, style="" if hint.enabled else "dim")
        self.update(line, layout=False)  # one line always: a layout would repaint everything

    def _hints(self) -> tuple[list[KeyHint], KeyHint | None]:
        """Every shown binding of the screen, bindings of one `Binding.Group` as one entry
        (`1 2 3 Status`), ranked by the screen's `KEY_LINE`; and the help key."""
        ranking: tuple[str, ...] = getattr(self.screen, "KEY_LINE", ())
        grouped: dict[object, list[tuple[Binding, bool]]] = {}
        seen: set[str] = set()
        active = self.screen.active_bindings
        for _node, binding, enabled, _tooltip in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            grouped.setdefault(binding.group or binding.action, []).append((binding, enabled))
        hints: list[KeyHint] = []
        help_hint: KeyHint | None = None
        for order, (group, members) in enumerate(grouped.items()):
            first = members[0][0]
            ranks = [ranking.index(b.id) for b, _ in members if b.id in ranking]
            hint = KeyHint(
                " ".join(self.app.get_key_display(binding) for binding, _ in members),
                group.description if isinstance(group, Binding.Group) else first.description,
                any(enabled for _, enabled in members),
                min(ranks) if ranks else len(ranking) + order)
            if first.action in HELP_ACTIONS:
                help_hint = hint
            else:
                hints.append(hint)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        if self.app.ENABLE_COMMAND_PALETTE and palette is not None:
            _node, binding, enabled, _tooltip = palette
            hints.append(KeyHint(self.app.get_key_display(binding), "Palette", enabled,
                                 len(ranking) + len(grouped)))
        hints.sort(key=lambda hint: hint.rank)
        return hints, help_hint


def fitting(keys: list[KeyHint], help_hint: KeyHint | None, width: int) -> list[KeyHint]:
    """The keys that fit in `width` cells in their order, then help: the first key that
    does not fit ends the line, so the keys keep their places. When some are left off,
    help says there are more."""
    more = None if help_hint is None else KeyHint(help_hint.keys, MORE,
                                                  help_hint.enabled, help_hint.rank)
    room = width + len(GAP) - (more.cells if more else 0)  # no gap after the last
    shown: list[KeyHint] = []
    for hint in keys:
        if hint.cells > room:
            break
        room -= hint.cells
        shown.append(hint)
    if help_hint is None or more is None:
        return shown
    return [*shown, help_hint if len(shown) == len(keys) else more]


def key_rank(screen: Screen[Any], binding: Binding) -> tuple[int, int]:
    """Where `binding` goes in a list of the screen's keys (the help screen): the key
    line's order first, then socialdesk's other keys, then Textual's own (scrolling)."""
    ranking: tuple[str, ...] = getattr(screen, "KEY_LINE", ())
    if binding.id in ranking:
        return 0, ranking.index(binding.id)
    return (1, 0) if binding.id else (2, 0)
