"""Who is where, in words: the queue's `now` column and the conversation's line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialdesk.store.team import Presence

TYPING_MARK = "✎"


def presence_marks(others: list[Presence]) -> dict[int, str]:
    """What the queue's `now` column shows per conversation: who has it open, `✎` when
    they type in it (`AB✎`), `+` when more than one desk has it open."""
    by_conversation: dict[int, list[Presence]] = {}
    for desk in others:
        if desk.conversation_id is not None:
            by_conversation.setdefault(desk.conversation_id, []).append(desk)
    marks: dict[int, str] = {}
    for conversation_id, desks in by_conversation.items():
        first = sorted(desks, key=lambda d: (not d.typing, d.initials))[0]
        mark = first.initials + (TYPING_MARK if first.typing else "")
        marks[conversation_id] = mark + ("+" if len({d.initials for d in desks}) > 1 else "")
    return marks


def presence_line(others: list[Presence], conversation_id: int) -> str:
    """The conversation screen's line: `AB is answering this · CD has it open too`."""
    here: dict[str, bool] = {}
    for desk in sorted(others, key=lambda d: (not d.typing, d.initials)):
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
    return " · ".join(parts)


def _names(initials: list[str]) -> str:
    return initials[0] if len(initials) == 1 else ", ".join(initials[:-1]) + " and " + initials[-1]
