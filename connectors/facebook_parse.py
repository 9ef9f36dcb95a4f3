"""Graph objects as items: visitor posts, comments and Messenger messages.

An object whose id, time or author cannot be read is set aside whole as a
`QuarantinedItem`, kept with the post or conversation it belongs to so `reparse` can
read it alone later; one bad object never takes its siblings with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors._payload import WrongType, kind_of, optional_text, platform_id
from connectors.base import Channel, Direction, InboundItem, QuarantinedItem
from connectors.graph_walk import graph_time

PLATFORM = "facebook"

STANDALONE_REASON = (
    "kept without the post or conversation it belongs to (by an older socialdesk); "
    "it cannot be read alone"
)


class GraphPayloadParser:
    """Reads one Page's visitor posts, comments and Messenger messages; the Page's own are
    outbound (comments, messages) or no message at all (its posts)."""

    def __init__(self, page_id: str) -> None:
        self.page_id = page_id


    def is_visitor_post(self, post: Mapping[str, Any]) -> bool:
        """Posts by anyone but the Page; a post whose author is withheld counts as a visitor's.

        The Page's own posts are not customer messages; a missing `from` means Graph hid a
        person, and dropping their post would lose a customer. An author that cannot be
        read counts as a visitor's too, so the post is set aside with the reason.
        """
        return author_id_or_none(post) != self.page_id

    def post_item(self, post: Mapping[str, Any]) -> InboundItem | QuarantinedItem:
        """A visitor post as an item, or set aside when its id or time cannot be read."""
        post_id = loose_id(post)
        created = parse_graph_time(post.get("created_time"))
        if post_id is None or created is None:
            reason = ("visitor post without id" if post_id is None
                      else "visitor post with unparseable created_time")
            return QuarantinedItem(reason=reason, raw=_kept_post(post), external_id=post_id)
        return self._visitor_post_item(post, post_id, created)

    def _visitor_post_item(
        self, post: Mapping[str, Any], post_id: str, created: datetime
    ) -> InboundItem | QuarantinedItem:
        """Set aside (without its comments, which are read apart) when a field has the
        wrong type."""
        try:
            author_id, author_name = _author(post)
            text = _text(post)
        except WrongType as wrong:
            return QuarantinedItem(reason=f"visitor post {wrong}", raw=_kept_post(post),
                                   external_id=post_id)
        return InboundItem(
            platform=PLATFORM,
            external_id=post_id,
            channel=Channel.VISITOR_POST,
            direction=Direction.INBOUND,
            thread_key=post_id,
            text=text,
            created_at=created,
            author_id=author_id,
            author_name=author_name,
            raw=post,
        )

    def comment_item(
        self, comment: Any, post_id: str | None, on_visitor_post: bool
    ) -> InboundItem | QuarantinedItem:
        """Threads on the top-level comment, or on the visitor post the comment answers.

        Set aside with the post it is under, so `reparse` can thread it alone later.
        """
        kept = {"data": comment, "post": {"id": post_id, "visitor": on_visitor_post}}
        visitor_post_id = post_id if on_visitor_post else None
        try:
            comment_id, created = _id_and_time(comment)
            parent = comment.get("parent")
            parent_id = loose_id(parent) if isinstance(parent, dict) else None
            author_id, author_name = _author(comment)
            text = _text(comment)
        except WrongType as wrong:
            return QuarantinedItem(reason=f"comment {wrong}", raw=kept,
                                   external_id=loose_id(comment))
        return InboundItem(
            platform=PLATFORM,
            external_id=comment_id,
            channel=Channel.COMMENT,
            direction=self._direction(author_id),
            thread_key=(visitor_post_id if visitor_post_id is not None
                        else parent_id or comment_id),
            text=text,
            created_at=created,
            author_id=author_id,
            author_name=author_name,
            parent_external_id=parent_id or visitor_post_id,
            raw=comment,
        )

    def reparse(
        self, stream: str, raw: Mapping[str, Any]
    ) -> InboundItem | QuarantinedItem | None:
        """A set-aside visitor post, comment or Messenger message read again (no API call).

        `raw` is `{"data": <object>}` for a visitor post, with `"post": {"id", "visitor"}`
        for a comment and `"conversation": {"id"}` for a message. Rows kept by older
        versions hold the bare object, without the post or conversation it belongs to.
        Returns None when the object is no message (the Page's own post).
        """
        payload = raw.get("data")
        post = raw.get("post")
        conversation = raw.get("conversation")
        if stream == "feed" and isinstance(post, dict) and "data" in raw:
            return self.comment_item(payload, loose_id(post), post.get("visitor") is True)
        if stream == "feed" and set(raw) == {"data"}:
            if not isinstance(payload, dict):
                return QuarantinedItem(reason=f"post is {kind_of(payload)}, not an object",
                                       raw=raw)
            return self.post_item(payload) if self.is_visitor_post(payload) else None
        if stream == "messenger" and isinstance(conversation, dict) and "data" in raw:
            conversation_id = loose_id(conversation)
            if conversation_id is not None:
                return self.message_item(payload, conversation_id)
        return QuarantinedItem(reason=STANDALONE_REASON, raw=raw)

    def message_item(self, message: Any, conversation_id: str) -> InboundItem | QuarantinedItem:
        """Attachment-only messages have no `message`: empty text, raw kept. Set aside with
        its conversation, so `reparse` can thread it alone later."""
        kept = {"data": message, "conversation": {"id": conversation_id}}
        try:
            message_id, created = _id_and_time(message)
            author_id, author_name = _author(message)
            text = _text(message)
        except WrongType as wrong:
            return QuarantinedItem(reason=f"message {wrong}", raw=kept,
                                   external_id=loose_id(message))
        return InboundItem(
            platform=PLATFORM,
            external_id=message_id,
            channel=Channel.MESSENGER,
            direction=self._direction(author_id),
            thread_key=conversation_id,
            text=text,
            created_at=created,
            author_id=author_id,
            author_name=author_name,
            raw=message,
        )

    def _direction(self, author_id: str | None) -> Direction:
        return Direction.OUTBOUND if author_id == self.page_id else Direction.INBOUND


def parse_graph_time(value: Any) -> datetime | None:
    """Graph's `2021-02-12T16:27:12+0000` as aware UTC, or None when unreadable."""
    return graph_time(value)


def _id_and_time(payload: Any) -> tuple[str, datetime]:
    """A comment's or message's id and time; `WrongType` says why it is set aside instead."""
    if not isinstance(payload, dict):
        raise WrongType(f"is {kind_of(payload)}, not an object")
    item_id = platform_id(payload.get("id"), "id")
    created = parse_graph_time(payload.get("created_time"))
    if item_id is None:
        raise WrongType("without id")
    if created is None:
        raise WrongType("with unparseable created_time")
    return item_id, created


def _author(obj: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """`from.id` and `from.name`; `from` is missing when Graph withholds the person (the
    author is unknown). A `from` that is no object, or an id of no single reading, raises
    `WrongType`: the direction would be a guess. A name that is no text is left out."""
    author = obj.get("from")
    if author is None:
        return None, None
    if not isinstance(author, dict):
        raise WrongType(f"from is {kind_of(author)}, not an object")
    name = author.get("name")
    return platform_id(author.get("id"), "from.id"), name if isinstance(name, str) else None


def author_id_or_none(obj: Mapping[str, Any]) -> str | None:
    """`from.id` where it can be read, else None (not the Page)."""
    try:
        return _author(obj)[0]
    except WrongType:
        return None


def _text(obj: Mapping[str, Any]) -> str:
    """`message`; absent on attachment-only posts and messages (empty text, raw kept). Any
    other type raises `WrongType`, never stored as empty text."""
    return optional_text(obj.get("message"), "message") or ""


def _kept_post(post: Mapping[str, Any]) -> dict[str, Any]:
    """A set-aside post without its comments: they are items of their own, and a new
    comment must not make the same post a new quarantine row."""
    return {"data": {key: value for key, value in post.items() if key != "comments"}}


def loose_id(obj: Mapping[str, Any]) -> str | None:
    """`id` where it has a single reading, else None (the object is set aside)."""
    try:
        return platform_id(obj.get("id"), "id")
    except WrongType:
        return None

