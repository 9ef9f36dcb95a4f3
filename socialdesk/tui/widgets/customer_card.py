"""What the conversation screen says about a customer: the card beside the thread, and the
lines that name a contact or one of their conversations in the pick lists."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, utils
from rich.console import Group
from rich.text import Text

from socialdesk.clock import zone_name
from socialdesk.platforms.registry import channel_label, platform_display_name
from socialdesk.privacy.mask import safe_line, stored_preview
from socialdesk.tui.text import STATUS_COLOURS, plain
from socialdesk.tui.times import day_time, zone_header

if TYPE_CHECKING:
    from socialdesk.store.queries.card import (
        CardConversation,
        ContactChoice,
        CustomerCard,
        StoredText,
    )


def render_card(card: CustomerCard | None, zone: ZoneInfo) -> Group | Text:
    """The customer card: handles, every conversation, notes, what data they exposed; its
    times in the desk's `zone`, named once under the name."""
    if card is None:
        return Text("No customer card: this conversation has no known author.", style="dim")
    parts: list[Text] = [Text(safe_line(card.display_name or "(no name)"), style="bold"),
                         Text(zone_header(zone), style="dim")]
    if card.verified_at is not None:
        parts.append(Text(f"Identity verified by {card.verified_by or '?'} "
                          f"{day_time(card.verified_at, zone)} "
                          f"({card.verified_method or '?'})",
                          style="bold green"))
    else:
        parts.append(Text("Identity NOT verified (c when confirmed)", style="bold yellow"))
    parts.append(Text("Handles", style="bold underline"))
    for handle in card.handles:
        name = f"@{safe_line(handle.username)}" if handle.username else "(no username)"
        parts.append(Text(f"  {platform_display_name(handle.platform)}: {name}"))
    parts.append(Text("Conversations", style="bold underline"))
    for earlier in card.conversations:
        parts.append(Text.assemble(
            ("  ● ", STATUS_COLOURS.get(earlier.status, "white")),
            f"#{earlier.id} {channel_label(earlier.platform, earlier.channel)} "
            f"{earlier.status} {day_time(earlier.last_message_at, zone)}",
        ))
    parts.append(Text("Personal data", style="bold underline"))
    parts.append(Text("  Shown in public: " + (", ".join(card.public_types) or "none"),
                      style="bold red" if card.public_types else "dim"))
    parts.append(Text("  Shared privately: " + (", ".join(card.private_types) or "none"),
                      style="" if card.private_types else "dim"))
    for exposure in card.public_exposures:
        parts.append(Text(f"  in public #{exposure.conversation_id}: {exposure.types}, "
                          f"{day_time(exposure.detected_at, zone)}, redirect {exposure.outcome}",
                          style="red"))
    parts.append(Text("Notes", style="bold underline"))
    if not card.notes:
        parts.append(Text("  none yet (n adds one)", style="dim"))
    for note in card.notes:
        parts.append(Text.assemble((f"  {note.initials} ", "bold"),
                                   (day_time(note.created_at, zone), "dim")))
        parts.append(plain(f"    {note.text}"))
    return Group(*parts)


def customer_label(name: str | None, handle: str | None) -> str:
    """Name and @handle as the platform gave them; Facebook gives names only."""
    parts = [safe_line(name) if name else "", f"@{safe_line(handle)}" if handle else ""]
    return " ".join(part for part in parts if part) or "(unknown author)"


def describe_contact(choice: ContactChoice) -> str:
    handles = ", ".join(f"{platform_display_name(platform)} "
                        f"{'@' + safe_line(name) if name else '(no username)'}"
                        for platform, name in choice.handles) or "no handle"
    return f"{safe_line(choice.display_name or '(no name)')} ({handles})"


def rank_candidates(candidates: list[ContactChoice], like: str) -> list[ContactChoice]:
    """Most similar name or handle first (rapidfuzz `WRatio`), ties by contact id."""
    if not like.strip():
        return candidates

    def score(choice: ContactChoice) -> float:
        names = [choice.display_name or "", *(name or "" for _, name in choice.handles)]
        return max(fuzz.WRatio(like, name, processor=utils.default_process) for name in names)

    return sorted(candidates, key=lambda c: (-score(c), c.contact_id))


def history_label(conversation: CardConversation, preview: StoredText | None,
                  zone: ZoneInfo) -> str:
    """`#7 X DM open 30 Nov 12:20 CET · preview`, personal data masked as in the queue:
    with the spans stored at ingest."""
    masked = stored_preview(preview.text, preview.spans)[:60] if preview else ""
    when = conversation.last_message_at
    named = f"{day_time(when, zone)} {zone_name(when, zone)}" if when else day_time(when, zone)
    return (f"#{conversation.id} {channel_label(conversation.platform, conversation.channel)} "
            f"{conversation.status} {named} · {masked}")
