"""How a conversation is drawn: one bubble per message, and the summary line above them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from socialdesk.platforms.registry import channel_label
from socialdesk.privacy.mask import safe_line
from socialdesk.tui.text import (
    STATUS_COLOURS,
    due_label,
    plain,
    short_duration,
    sla_running,
    waiting_since,
)
from socialdesk.tui.times import due_time, full_time
from socialdesk.tui.widgets.customer_card import customer_label

if TYPE_CHECKING:
    from socialdesk.store.models import PrivacyExposure
    from socialdesk.store.queries.conversation import ConversationView, ThreadMessage

PUBLIC_BANNER = "PUBLIC · everyone can read this"
PRIVATE_BANNER = "PRIVATE · only the customer and us"

MODERATION_WORDS = {
    ("hide", "sent"): "HIDDEN on the platform",
    ("unhide", "sent"): "unhidden",
    ("hide", "failed"): "hide FAILED",
    ("unhide", "failed"): "unhide FAILED",
}


class MessageBubble(Static):
    """One message: who wrote it, where, and whether the world can see it, before the text."""

    DEFAULT_CSS = """
    MessageBubble { height: auto; padding: 0 1; margin: 0 0 1 0; }
    MessageBubble.inbound { margin-right: 6; }
    MessageBubble.outbound { margin-left: 6; }
    MessageBubble.public { border: heavy $warning; border-title-color: $warning;
                           border-title-style: bold; }
    MessageBubble.private { border: round $success; border-title-color: $success;
                            border-title-style: bold; }
    """


def message_bubble(message: ThreadMessage, text: str, platform: str,
                   zone: ZoneInfo) -> MessageBubble:
    """`message` as a bubble showing `text` (masked, or revealed in clear), its time in
    the desk's `zone`."""
    inbound = message.direction == "inbound"
    public = message.visibility == "public"
    who = (customer_label(message.author_name, message.author_handle) if inbound
           else f"us ({safe_line(message.author_handle or 'brand')})")
    header = Text.assemble(
        ("CUSTOMER → us" if inbound else "us → CUSTOMER", "bold"),
        f"  {who}  {full_time(message.created_at, zone)}",
    )
    if message.has_pii:
        header.append(f"  personal data: {message.pii_types or 'yes'}", style="bold red")
    moderation = message.moderation
    if moderation is not None:
        header.append(f"  {moderation_label(moderation.kind, moderation.state)}",
                      style="bold yellow")
    bubble = MessageBubble(Group(header, plain(text)),
                           classes=" ".join(("inbound" if inbound else "outbound",
                                             "public" if public else "private")))
    bubble.border_title = PUBLIC_BANNER if public else PRIVATE_BANNER
    bubble.border_subtitle = channel_label(platform, message.channel)
    return bubble


def conversation_summary(view: ConversationView, now: datetime,
                         suggestions: list[PrivacyExposure], revealed: bool,
                         zone: ZoneInfo) -> Text:
    """The line above the thread: status, channel, who has it, how long the customer has
    waited and when the first response is due (in `zone`, named), and what needs the
    operator's eye."""
    colour = STATUS_COLOURS.get(view.status, "white")
    waited = waiting_since(view.status, view.last_inbound_at,
                           view.messages[-1].created_at if view.messages
                           and view.messages[-1].direction == "outbound" else None)
    summary = Text.assemble(
        (f"● {view.status.upper()} ", f"bold {colour}"),
        f"#{view.id} · {channel_label(view.platform, view.channel)} · {view.account} · ",
        ("PUBLIC conversation" if view.visibility == "public" else "PRIVATE conversation",
         "bold"),
        f" · assigned to {view.assignee or 'nobody'}",
    )
    if waited is not None:
        summary.append(f" · waiting {short_duration(now - waited)}", style="bold")
    if waited is not None and view.first_response_due_at is not None and sla_running(
            view.status, view.last_outbound_at, view.sla_started_at):
        label, late = due_label(view.first_response_due_at, now)
        when = due_time(view.first_response_due_at, now, zone)
        summary.append(" · first response " + (f"overdue by {label.removeprefix('+')} "
                                               f"(was due {when})"
                                               if late else f"due {label} ({when})"),
                       style="bold red" if late else "bold")
    if suggestions:
        types = ", ".join(sorted({t for s in suggestions for t in s.types.split(",")}))
        summary.append(f" · {types} in public: redirect suggested (g)", style="bold red")
    if revealed:
        summary.append(" · personal data REVEALED (audited; v masks it again)", style="bold red")
    return summary


def moderation_label(kind: str, state: str) -> str:
    """`HIDDEN on the platform`, `hide pending`, `unhide FAILED`...: the outbox row's state."""
    return MODERATION_WORDS.get((kind, state), f"{kind} {state}")


def hidden_now(message: ThreadMessage) -> bool:
    return message.moderation is not None and message.moderation.hidden
