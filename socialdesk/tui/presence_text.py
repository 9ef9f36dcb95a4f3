"""Who is where, in words: the queue's `now` column and the conversation's line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialdesk.store.team import Presence

TYPING_MARK = "✎"


@dataclass(frozen=True)
class Colleagues:
    """The other desks as last read: where each is, and which conversations each took
    (`held`: conversation id -> the initials of the desk holding it)."""

    desks: list[Presence] = field(default_factory=list)
    held: dict[int, str] = field(default_factory=dict)

    def shown(self) -> tuple[frozenset[tuple[str, str, int | None, bool]], frozenset[object]]:
        """What the screens show of them: not when each was last heard from."""
        return (frozenset((d.desk_id, d.initials, d.conversation_id, d.typing)
                          for d in self.desks), frozenset(self.held.items()))


def presence_marks(colleagues: Colleagues) -> dict[int, str]:
    """What the queue's `now` column shows per conversation: who has it open, `✎` when
    they type in it (`AB✎`), `+` when more than one desk has it open; who took it, when
    they have moved on (their hold lasts `store.team.HOLD_SECONDS`)."""
    by_conversation: dict[int, list[Presence]] = {}
    for desk in colleagues.desks:
        if desk.conversation_id is not None:
            by_conversation.setdefault(desk.conversation_id, []).append(desk)
    marks: dict[int, str] = {}
    for conversation_id, desks in by_conversation.items():
        first = sorted(desks, key=lambda d: (not d.typing, d.initials))[0]
        mark = first.initials + (TYPING_MARK if first.typing else "")
        marks[conversation_id] = mark + ("+" if len({d.initials for d in desks}) > 1 else "")
    for conversation_id, initials in colleagues.held.items():
        marks.setdefault(conversation_id, initials)
    return marks


def presence_line(colleagues: Colleagues, conversation_id: int) -> str:
    """The conversation screen's line: `AB is answering this · CD has it open too`, or
    `CD took this` when the colleague holding it is elsewhere now."""
    here: dict[str, bool] = {}
    for desk in sorted(colleagues.desks, key=lambda d: (not d.typing, d.initials)):
        if desk.conversation_id == conversation_id:
            here.setdefault(desk.initials, desk.typing)
    typing = [initials for initials, types in here.items() if types]
    reading = [initials for initials, types in here.items() if not types]
    parts = []
    if typing:
        parts.append(f"{_names(typing)} {'is' if len(typing) == 1 else 'are'} answering this")
    if reading:
        also = " too" if typing else ""
        parts.append(f"{_names(reading)} {'has' if len(reading) == 1 else 'have'} it open{also}")
    took = colleagues.held.get(conversation_id)
    if took is not None and took not in here:
        parts.append(f"{took} took this")
    return " · ".join(parts)


def _names(initials: list[str]) -> str:
    return initials[0] if len(initials) == 1 else ", ".join(initials[:-1]) + " and " + initials[-1]
