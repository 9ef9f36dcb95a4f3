"""The Graph emulator's writes: comment replies, hiding, Messenger sends and private replies.

Meta's messaging windows are enforced: RESPONSE within 24 hours of the person's last
message, HUMAN_AGENT within 7 days, one private reply per comment or post within 7 days.
Each write is recorded in the store's action log with Graph's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from socialdesk.sandbox.graph_errors import GraphError
from socialdesk.sandbox.graph_render import PRIVATE_REPLY_WINDOW
from socialdesk.sandbox.graph_request import GraphContext, json_param
from socialdesk.sandbox.state import (
    FACEBOOK_PAGE_ID,
    ORIGIN_API,
    FBComment,
    FBMessage,
    FBPost,
    Store,
    iso,
)
from socialdesk.sandbox.wire import Response

RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
UNWINDOWED_TAGS = frozenset({"ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"})
OUTSIDE_WINDOW = "(#10) This message is sent outside of allowed window."


class GraphWrites:
    """Write routes over the shared store; mixed into `GraphApi`."""

    store: Store
    clock: Callable[[], datetime]

    def post_comment(self, ctx: GraphContext) -> Response:
        """The Page answers a comment (threaded under its top-level comment) or a post."""
        text = str(ctx.params.get("message", "")).strip()
        with self.store.lock:
            try:
                if not text:
                    raise GraphError("(#100) Missing message or attachment", 100)
                post_id, parent = self._comment_target(ctx.node)
            except GraphError as error:
                self._record("facebook.reply", ctx, error, target_id=ctx.node)
                raise
            number = self.store.posts[post_id].number
            comment = self.store.add_comment(
                FBComment(
                    id=self.store.ids.comment(number),
                    post_id=post_id,
                    message=text,
                    from_id=FACEBOOK_PAGE_ID,
                    created_time=self._now(),
                    parent_id=parent,
                    origin=ORIGIN_API,
                )
            )
            self._record(
                "facebook.reply", ctx, None, target_id=ctx.node, assigned_id=comment.id, text=text
            )
            return Response(200, {"id": comment.id})

    def _comment_target(self, node: str) -> tuple[str, str | None]:
        if node in self.store.posts:
            return node, None
        target = self.store.comments[node]
        return target.post_id, target.parent_id or target.id

    def update_hidden(self, ctx: GraphContext) -> Response:
        raw = ctx.params.get("is_hidden")
        with self.store.lock:
            target = self.store.comments.get(ctx.node) or self.store.posts[ctx.node]
            try:
                if raw is None:
                    raise GraphError("(#100) No valid update parameters were provided", 100)
                hidden = str(raw).lower() in ("true", "1")
                if str(raw).lower() not in ("true", "false", "1", "0"):
                    raise GraphError("(#100) Param is_hidden must be a boolean", 100)
                if target.from_id == FACEBOOK_PAGE_ID and isinstance(target, FBComment):
                    raise GraphError("(#100) The Page cannot hide its own comment", 100)
            except GraphError as error:
                self._record("facebook.hide", ctx, error, target_id=ctx.node)
                raise
            target.hidden = hidden
            self._record("facebook.hide", ctx, None, target_id=ctx.node, hidden=hidden)
            return Response(200, {"success": True})

    def send_message(self, ctx: GraphContext) -> Response:
        """Messenger Send API: a private reply (comment_id/post_id) or a message to a PSID."""
        with self.store.lock:
            recipient = json_param(ctx.params, "recipient") or {}
            message = json_param(ctx.params, "message") or {}
            private = "comment_id" in recipient or "post_id" in recipient
            kind = "facebook.private_reply" if private else "facebook.message"
            try:
                text = self._message_text(recipient, message)
                if kind == "facebook.private_reply":
                    user_id, mark = self._private_reply_target(recipient)
                else:
                    user_id, mark = self._window_target(recipient, ctx.params), None
            except GraphError as error:
                self._record(kind, ctx, error, recipient=recipient)
                raise
            now = self._now()
            conversation = self.store.conversation_with(user_id, now)
            sent = self.store.add_message(
                FBMessage(
                    id=self.store.ids.message(),
                    conversation_id=conversation.id,
                    from_id=FACEBOOK_PAGE_ID,
                    to_id=user_id,
                    created_time=now,
                    message=text,
                    origin=ORIGIN_API,
                )
            )
            if mark is not None:
                mark.private_reply_message_id = sent.id
            self._record(
                kind,
                ctx,
                None,
                recipient=recipient,
                assigned_id=sent.id,
                text=text,
                conversation_id=conversation.id,
                messaging_type=ctx.params.get("messaging_type"),
                tag=ctx.params.get("tag"),
            )
            return Response(200, {"recipient_id": user_id, "message_id": sent.id})

    @staticmethod
    def _message_text(recipient: dict[str, Any], message: dict[str, Any]) -> str:
        if not recipient:
            raise GraphError("(#100) param recipient must be non-empty.", 100)
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            raise GraphError("(#100) param message must be non-empty.", 100)
        return text

    def _private_reply_target(self, recipient: dict[str, Any]) -> tuple[str, FBComment | FBPost]:
        """One private reply per comment or visitor post, within 7 days of it."""
        if "comment_id" in recipient:
            target: FBComment | FBPost | None = self.store.comments.get(
                str(recipient["comment_id"])
            )
            name = "comment_id"
        else:
            target = self.store.posts.get(str(recipient["post_id"]))
            name = "post_id"
        if target is None or target.from_id == FACEBOOK_PAGE_ID:
            raise GraphError(f"(#100) Invalid {name} parameter", 100, subcode=2018292)
        if target.private_reply_message_id is not None:
            raise GraphError(
                "(#10) Only one private reply can be sent for this "
                f"{'comment' if name == 'comment_id' else 'post'}.",
                10,
                subcode=2018108,
            )
        if self.clock() - target.created_time > PRIVATE_REPLY_WINDOW:
            raise GraphError(OUTSIDE_WINDOW, 10, subcode=2018278)
        return target.from_id, target

    def _window_target(self, recipient: dict[str, Any], params: dict[str, Any]) -> str:
        """A message to a person: RESPONSE/UPDATE within 24 h, HUMAN_AGENT within 7 days."""
        user_id = str(recipient.get("id", ""))
        if user_id not in self.store.fb_users or user_id == FACEBOOK_PAGE_ID:
            raise GraphError("(#100) No matching user found", 100, subcode=2018001)
        messaging_type = str(params.get("messaging_type", "RESPONSE"))
        tag = params.get("tag")
        if messaging_type in ("RESPONSE", "UPDATE"):
            window: timedelta | None = RESPONSE_WINDOW
        elif messaging_type == "MESSAGE_TAG":
            if tag == "HUMAN_AGENT":
                window = HUMAN_AGENT_WINDOW
            elif tag in UNWINDOWED_TAGS:
                window = None
            else:
                raise GraphError(
                    f"(#100) Param tag must be one of {{HUMAN_AGENT, "
                    f"{', '.join(sorted(UNWINDOWED_TAGS))}}}",
                    100,
                )
        else:
            raise GraphError(
                "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}", 100
            )
        last = self.store.last_message_from(user_id)
        if window is not None and (last is None or self.clock() - last.created_time > window):
            raise GraphError(OUTSIDE_WINDOW, 10, subcode=2018278)
        return user_id

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def _record(
        self, kind: str, ctx: GraphContext, error: GraphError | None, **details: Any
    ) -> None:
        body = {k: v for k, v in ctx.params.items() if k != "access_token"}
        self.store.record_action(
            {
                "platform": "facebook",
                "kind": kind,
                "method": ctx.method,
                "path": ctx.request_path,
                "body": body,
                "status": error.status if error else 200,
                "ok": error is None,
                "assigned_id": details.pop("assigned_id", None),
                "error": None
                if error is None
                else {"message": error.message, "code": error.code, "error_subcode": error.subcode},
                "received_at": iso(self.clock()),
                **details,
            }
        )


