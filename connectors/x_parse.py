"""X payloads as items: tweets and DM events read into `InboundItem`s or set aside.

A tweet and a DM event carry the same facts under different names (`PayloadKind`); an
object without id, text or a readable `created_at`, or with a field of the wrong type,
becomes a `QuarantinedItem` kept with its author so it can be read again alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors._payload import WrongType, aware_time, optional_text, platform_id, str_or_none
from connectors.base import Channel, Direction, InboundItem, QuarantinedItem

PLATFORM = "x"

TWEET_FIELDS = ["author_id", "created_at", "conversation_id", "in_reply_to_user_id",
                "referenced_tweets"]
"""Without these a mention has only `id`, `text` and `edit_history_tweet_ids`."""

DM_EVENT_FIELDS = ["id", "text", "sender_id", "created_at", "dm_conversation_id", "event_type"]

USER_FIELDS = ["username", "name"]

MESSAGE_CREATE = "MessageCreate"
"""The only DM event type that carries a message; joins and leaves are skipped."""


@dataclass(frozen=True)
class PayloadKind:
    """Where a tweet and a DM event keep the same facts under different names."""

    name: str
    channel: Channel
    author_field: str
    thread_field: str


MENTION_KIND = PayloadKind("mention", Channel.MENTION, "author_id", "conversation_id")
DM_KIND = PayloadKind("DM event", Channel.DM, "sender_id", "dm_conversation_id")
STREAM_KINDS = {"mentions": MENTION_KIND, "dms": DM_KIND}


class XPayloadParser:
    """Reads one account's tweets and DM events; its own posts and messages are outbound."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id

    def mentions(
        self, tweets: list[Any], users: Mapping[str, Mapping[str, Any]]
    ) -> tuple[list[InboundItem], list[QuarantinedItem]]:
        """The mentions of one page, with the authors of its `includes.users`."""
        return self._parse(tweets, users, MENTION_KIND)

    def dm_events(
        self, events: list[Any], users: Mapping[str, Mapping[str, Any]]
    ) -> tuple[list[InboundItem], list[QuarantinedItem]]:
        """Only MessageCreate events are messages; joins and leaves carry no text."""
        messages = [
            event for event in events
            if not isinstance(event, dict) or event.get("event_type") in (MESSAGE_CREATE, None)
        ]
        return self._parse(messages, users, DM_KIND)

    def _parse(
        self, payloads: list[Any], users: Mapping[str, Mapping[str, Any]], kind: PayloadKind
    ) -> tuple[list[InboundItem], list[QuarantinedItem]]:
        items: list[InboundItem] = []
        quarantined: list[QuarantinedItem] = []
        for payload in payloads:
            parsed = self.item(payload, users, kind)
            if isinstance(parsed, InboundItem):
                items.append(parsed)
            else:
                quarantined.append(parsed)
        return items, quarantined

    def item(
        self, payload: Any, users: Mapping[str, Mapping[str, Any]], kind: PayloadKind
    ) -> InboundItem | QuarantinedItem:
        """One tweet or DM event as an item; without id, text or a readable `created_at`, or
        with a field of the wrong type, it is quarantined with its author from the page's
        `includes.users`, so `reparse` can read it alone later. The account's own posts
        and messages are outbound echoes."""
        if not isinstance(payload, dict):
            return QuarantinedItem(reason=f"{kind.name} is not an object",
                                   raw=kept_with_author(payload, users, kind))
        try:
            item_id = platform_id(payload.get("id"), "id")
            author_id = platform_id(payload.get(kind.author_field), kind.author_field)
            thread_key = platform_id(payload.get(kind.thread_field), kind.thread_field)
            text = optional_text(payload.get("text"), "text")
        except WrongType as wrong:
            return QuarantinedItem(reason=f"{kind.name} {wrong}",
                                   raw=kept_with_author(payload, users, kind),
                                   external_id=str_or_none(payload.get("id")))
        created_at = parse_x_time(payload.get("created_at"))
        problem = _missing_parts(item_id, text, created_at)
        if problem:
            return QuarantinedItem(reason=f"{kind.name} {problem}",
                                   raw=kept_with_author(payload, users, kind),
                                   external_id=item_id)
        assert item_id is not None and text is not None and created_at is not None
        author = users.get(author_id or "", {})
        return InboundItem(
            platform=PLATFORM,
            external_id=item_id,
            channel=kind.channel,
            direction=self._direction(author_id),
            thread_key=thread_key or item_id,
            text=text,
            created_at=created_at,
            author_id=author_id,
            author_handle=str_or_none(author.get("username")),
            author_name=str_or_none(author.get("name")),
            parent_external_id=replied_to(payload) if kind.channel is Channel.MENTION else None,
            raw=payload,
        )

    def reparse(
        self, stream: str, raw: Mapping[str, Any]
    ) -> InboundItem | QuarantinedItem | None:
        """A quarantined tweet or DM event read again with today's parser (no API call).

        `raw` is `{"data": <tweet or event>, "includes": {"users": [<its author>]}}`; rows
        kept before authors were stored are the bare object, read without a name.
        """
        kind = STREAM_KINDS.get(stream)
        if kind is None:
            return QuarantinedItem(reason=f"X has no stream {stream!r}", raw=raw)
        if set(raw) <= {"data", "includes"} and "data" in raw:
            return self.item(raw["data"], users_by_id(raw), kind)
        return self.item(dict(raw), {}, kind)

    def _direction(self, author_id: str | None) -> Direction:
        return Direction.OUTBOUND if author_id == self.user_id else Direction.INBOUND


def parse_x_time(value: Any) -> datetime | None:
    """X's `2022-10-07T22:43:18.000Z` as aware UTC, or None when unreadable."""
    return aware_time(value)


def kept_with_author(
    payload: Any, users: Mapping[str, Mapping[str, Any]], kind: PayloadKind
) -> dict[str, Any]:
    """What a quarantined object needs to be read alone: itself, in a one-item page with its
    author (X names authors only in the page's `includes.users`)."""
    author_key = payload.get(kind.author_field) if isinstance(payload, dict) else None
    author = users.get(str(author_key)) if author_key is not None else None
    kept: dict[str, Any] = {"data": payload}
    if author is not None:
        kept["includes"] = {"users": [dict(author)]}
    return kept


def _missing_parts(
    item_id: str | None, text: str | None, created_at: datetime | None
) -> str | None:
    """Why an X object cannot become an item, or None when it can."""
    if not item_id:
        return "without id"
    if text is None:
        return "without text"
    if created_at is None:
        return "with missing or unparseable created_at"
    return None


def page_meta(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """`meta` of a page (newest_id, next_token), empty when absent."""
    meta = body.get("meta")
    return meta if isinstance(meta, dict) else {}


def users_by_id(body: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """`includes.users` keyed by id; authors missing here are unknown, not an error."""
    includes = body.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    if not isinstance(users, list):
        return {}
    return {str(user["id"]): user for user in users if isinstance(user, dict) and "id" in user}


def replied_to(tweet: Mapping[str, Any]) -> str | None:
    """The id of the post a tweet answers, from its `referenced_tweets`."""
    references = tweet.get("referenced_tweets")
    if not isinstance(references, list):
        return None
    for reference in references:
        if isinstance(reference, dict) and reference.get("type") == "replied_to":
            return str_or_none(reference.get("id"))
    return None

