"""Saved replies: the ones closest to what the customer wrote come first (seed 003)."""

from __future__ import annotations

from rapidfuzz import fuzz, process, utils

from socialdesk.tui.context import SavedReply

SUGGESTIONS = 3


def suggest(saved: list[SavedReply], last_inbound: str,
            limit: int = SUGGESTIONS) -> list[SavedReply]:
    """The saved replies most similar to the customer's last message, best first.

    `token_set_ratio` compares word sets, so word order and extra words in a long message
    matter little; ties keep config order.
    """
    if not saved:
        return []
    scored = process.extract(last_inbound, [reply.text for reply in saved],
                             scorer=fuzz.token_set_ratio, processor=utils.default_process,
                             limit=len(saved))
    ranked = sorted(scored, key=lambda match: (-match[1], match[2]))
    return [saved[index] for _, _, index in ranked[:limit]]


def fill(template: str, name: str | None, agent: str) -> str:
    """`{name}` and `{agent}` filled in; any other brace is left as written."""
    return template.replace("{name}", name or "").replace("{agent}", agent)
