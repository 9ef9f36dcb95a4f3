"""Graph's wire shapes for the emulator's answers: posts, comments, conversations, messages.

Only the requested `fields` are rendered, nested edges honour their own `{sub,fields}`
and `.limit(n)`, and lists page with Graph's cursors and `next`/`previous` links.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from socialdesk.sandbox.graph_errors import GraphError
from socialdesk.sandbox.graph_fields import FieldSpec, parse_fields
from socialdesk.sandbox.graph_request import DEFAULT_FIELDS, GraphContext
from socialdesk.sandbox.state import (
    FACEBOOK_PAGE_ID,
    FBComment,
    FBConversation,
    FBMessage,
    FBPost,
    Store,
)
from socialdesk.sandbox.wire import decode_cursor, encode_cursor, graph_time, parse_time

PRIVATE_REPLY_WINDOW = timedelta(days=7)
"""Meta allows one private reply to a comment or visitor post within 7 days of it."""


class GraphRendering:
    """Renders the shared store's Graph objects; mixed into `GraphApi`."""

    store: Store
    clock: Callable[[], datetime]

    def _comments_edge(
        self, node: str, spec: FieldSpec, ctx: GraphContext, top: bool
    ) -> dict[str, Any]:
        """A comments listing of a post or a comment, honouring filter, order and limit."""
        stream = spec.modifiers.get("filter", "toplevel") == "stream"
        reverse = spec.modifiers.get("order", "chronological") == "reverse_chronological"
        if node in self.store.posts:
            found = [
                c
                for c in self.store.comments.values()
                if c.post_id == node and (stream or c.parent_id is None)
            ]
        else:
            found = [c for c in self.store.comments.values() if c.parent_id == node]
        found.sort(key=lambda c: (c.created_time, c.id), reverse=reverse)
        sub = (spec.subfields if spec.subfields is not None
               else parse_fields(DEFAULT_FIELDS["comment"]))
        link = {
            "filter": "stream" if stream else "toplevel",
            "order": "reverse_chronological" if reverse else "chronological",
            "fields": unparse_fields(sub),
        }
        edge_ctx = ctx if top else ctx.nested(link, spec)
        page, paging = self._paginate(edge_ctx, found, "comment", f"/{node}/comments", 25)
        listing = page_listing([self._comment_json(c, sub, ctx) for c in page], paging)
        if "summary" in spec.modifiers or (top and "summary" in ctx.params):
            listing["summary"] = {
                "order": link["order"],
                "total_count": len(found),
                "can_comment": True,
            }
        return listing

    def _messages_edge(
        self, conversation_id: str, spec: FieldSpec, ctx: GraphContext, top: bool
    ) -> dict[str, Any]:
        found = sorted(
            self.store.conversation_messages(conversation_id),
            key=lambda m: (m.created_time, m.id),
            reverse=True,
        )
        sub = (spec.subfields if spec.subfields is not None
               else parse_fields(DEFAULT_FIELDS["message"]))
        path = f"/{conversation_id}/messages"
        edge_ctx = ctx if top else ctx.nested({"fields": unparse_fields(sub)}, spec)
        page, paging = self._paginate(edge_ctx, found, "message", path, 25)
        return page_listing([select_fields(self._message_full(m), sub) for m in page], paging)

    def _person(self, user_id: str, with_email: bool = False) -> dict[str, str]:
        user = self.store.fb_users.get(user_id)
        person = {"name": user.name if user else "Facebook user", "id": user_id}
        if with_email:
            person = {"name": person["name"], "email": f"{user_id}@facebook.com", "id": user_id}
        return person

    def _post_json(
        self, post: FBPost, specs: dict[str, FieldSpec], ctx: GraphContext
    ) -> dict[str, Any]:
        full: dict[str, Any] = {
            "id": post.id,
            "message": post.message,
            "created_time": graph_time(post.created_time),
            "updated_time": graph_time(post.updated_time),
            "from": self._person(post.from_id),
            "is_hidden": post.hidden,
            "status_type": "mobile_status_update",
            "permalink_url": f"https://www.facebook.com/{FACEBOOK_PAGE_ID}/posts/{post.number}",
            "can_reply_privately": self._can_reply_privately(
                post.from_id, post.created_time, post.private_reply_message_id
            ),
        }
        out = select_fields(full, specs)
        if "comments" in specs:
            listing = self._comments_edge(post.id, specs["comments"], ctx, top=False)
            if listing["data"] or "summary" in listing:
                out["comments"] = listing
        return out

    def _comment_json(
        self, comment: FBComment, specs: dict[str, FieldSpec], ctx: GraphContext
    ) -> dict[str, Any]:
        post_number = self.store.posts[comment.post_id].number
        full: dict[str, Any] = {
            "id": comment.id,
            "message": comment.message,
            "created_time": graph_time(comment.created_time),
            "is_hidden": comment.hidden,
            "can_hide": comment.from_id != FACEBOOK_PAGE_ID,
            "can_reply_privately": self._can_reply_privately(
                comment.from_id, comment.created_time, comment.private_reply_message_id
            ),
            "comment_count": sum(
                1 for c in self.store.comments.values() if c.parent_id == comment.id
            ),
            "like_count": 0,
            "permalink_url": (
                f"https://www.facebook.com/{FACEBOOK_PAGE_ID}/posts/{post_number}"
                f"?comment_id={comment.id.split('_')[1]}"
            ),
        }
        if comment.show_from:
            full["from"] = self._person(comment.from_id)
        if comment.parent_id:
            full["parent"] = {
                "id": comment.parent_id,
                "message": self.store.comments[comment.parent_id].message,
                "created_time": graph_time(self.store.comments[comment.parent_id].created_time),
            }
        if comment.private_reply_message_id:
            conversation = self.store.conversation_with(comment.from_id, comment.created_time)
            full["private_reply_conversation"] = {"id": conversation.id}
        out = select_fields(full, {k: v for k, v in specs.items() if k != "comments"})
        if "comments" in specs:
            listing = self._comments_edge(comment.id, specs["comments"], ctx, top=False)
            if listing["data"] or "summary" in listing:
                out["comments"] = listing
        return out

    def _can_reply_privately(self, author: str, created: datetime, sent: str | None) -> bool:
        return (
            author != FACEBOOK_PAGE_ID
            and sent is None
            and self.clock() - created <= PRIVATE_REPLY_WINDOW
        )

    def _conversation_json(
        self, conversation: FBConversation, specs: dict[str, FieldSpec], ctx: GraphContext
    ) -> dict[str, Any]:
        messages = sorted(
            self.store.conversation_messages(conversation.id), key=lambda m: m.created_time
        )
        last_text = next((m.message for m in reversed(messages) if m.message), "")
        people = {
            "data": [
                self._person(conversation.user_id, with_email=True),
                self._person(FACEBOOK_PAGE_ID, with_email=True),
            ]
        }
        full: dict[str, Any] = {
            "id": conversation.id,
            "link": f"/{FACEBOOK_PAGE_ID}/inbox/{conversation.id[2:]}/",
            "updated_time": graph_time(conversation.updated_time),
            "message_count": len(messages),
            "unread_count": 0,
            "snippet": last_text[:100],
            "participants": people,
            "senders": people,
            "can_reply": True,
        }
        out = select_fields(full, {k: v for k, v in specs.items() if k != "messages"})
        if "messages" in specs:
            out["messages"] = self._messages_edge(
                conversation.id, specs["messages"], ctx, top=False
            )
        return out

    def _message_full(self, message: FBMessage) -> dict[str, Any]:
        full: dict[str, Any] = {
            "id": message.id,
            "created_time": graph_time(message.created_time),
            "from": self._person(message.from_id, with_email=True),
            "to": {"data": [self._person(message.to_id, with_email=True)]},
        }
        if message.message is not None:
            full["message"] = message.message
        if message.attachment is not None:
            full["attachments"] = {"data": [message.attachment]}
        return full

    def _paginate(
        self, ctx: GraphContext, items: list[Any], kind: str, path: str, default_limit: int
    ) -> tuple[list[Any], dict[str, Any] | None]:
        """Cursor paging with `next`/`previous` links on the sandbox host.

        Cursors name the last item of a page; conversations, listed by `updated_time`, name
        it with the time it had then (a keyset), so a conversation that moves to the top
        behind a walk is skipped by it while the rest of the list pages on unchanged.
        """
        limit = ctx.limit(default_limit)
        start = 0
        if ctx.params.get("after"):
            start = self._cursor_index(items, kind, str(ctx.params["after"])) + 1
        elif ctx.params.get("before"):
            start = max(self._cursor_index(items, kind, str(ctx.params["before"])) - limit, 0)
        page = items[start : start + limit]
        if not page:
            return page, None
        first, last = item_cursor(kind, page[0]), item_cursor(kind, page[-1])
        paging: dict[str, Any] = {"cursors": {"before": first, "after": last}}
        if start > 0:
            paging["previous"] = ctx.link(path, before=first, limit=limit)
        if start + limit < len(items):
            paging["next"] = ctx.link(path, after=last, limit=limit)
        return page, paging

    @staticmethod
    def _cursor_index(items: list[Any], kind: str, cursor: str) -> int:
        """The index of the cursor's item; for a keyset, of the last item at or after it."""
        named = decode_cursor(kind, cursor)
        item_id, _, moment = (named or "").partition("@")
        if moment:
            key = (parse_time(moment), item_id)
            if key[0] is not None:
                return sum(1 for item in items if (item.updated_time, item.id) >= key) - 1
        for index, item in enumerate(items):
            if item.id == item_id:
                return index
        raise GraphError("(#100) The parameter after or before is not a valid cursor", 100)


def unparse_fields(specs: dict[str, FieldSpec]) -> str:
    parts = []
    for spec in specs.values():
        text = spec.name + "".join(f".{k}({v})" for k, v in spec.modifiers.items())
        if spec.subfields is not None:
            text += "{" + unparse_fields(spec.subfields) + "}"
        parts.append(text)
    return ",".join(parts)


def select_fields(full: dict[str, Any], specs: dict[str, FieldSpec]) -> dict[str, Any]:
    """Only the requested fields that the object has; nested objects honour `{sub,fields}`."""
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        if name not in full:
            continue
        value = full[name]
        if spec.subfields and isinstance(value, dict):
            value = (
                select_fields(value, spec.subfields)
                if "data" not in value
                else {"data": [select_fields(v, spec.subfields) for v in value["data"]]}
            )
        out[name] = value
    return out


def item_cursor(kind: str, item: Any) -> str:
    if kind == "conversation":
        return encode_cursor(kind, f"{item.id}@{item.updated_time.isoformat()}")
    return encode_cursor(kind, item.id)


def page_listing(data: list[dict[str, Any]], paging: dict[str, Any] | None) -> dict[str, Any]:
    listing: dict[str, Any] = {"data": data}
    if paging is not None:
        listing["paging"] = paging
    return listing

