"""The X emulator's writes: posts and replies, direct messages, hidden replies.

Each write is recorded in the store's action log with X's answer, refused ones included,
so a test can see what socialdesk sent and what X said.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from socialdesk.sandbox.state import (
    ORIGIN_API,
    X_USER_ID,
    X_USERNAME,
    DMEvent,
    Store,
    Tweet,
    dm_conversation_id,
    iso,
)
from socialdesk.sandbox.wire import Request, Response
from socialdesk.sandbox.x_problems import Refusal, invalid_body, json_object, problem, require_text

SUMMONED_REFUSAL = (
    "Reply to this conversation is not allowed because you have not been "
    "mentioned or otherwise engaged by the author of the post you are replying to."
)


class XWrites:
    """Write routes over the shared store; mixed into `XApi`."""

    store: Store
    clock: Callable[[], datetime]
    base_url: Callable[[], str]

    def create_tweet(self, request: Request) -> Response:
        body = json_object(request)
        text = body.get("text")
        reply = body.get("reply") or {}
        target_id = str(reply.get("in_reply_to_tweet_id", "")) or None
        with self.store.lock:
            try:
                valid_text = require_text(text)
                target = self._reply_target(target_id) if target_id else None
                self._refuse_duplicate(valid_text)
            except Refusal as refusal:
                self._record(
                    request,
                    "x.reply" if target_id else "x.tweet",
                    body,
                    refusal.response,
                    target_id=target_id,
                    text=text,
                )
                raise
            tweet_id = self.store.ids.snowflake()
            self.store.add_tweet(
                Tweet(
                    id=tweet_id,
                    text=valid_text,
                    author_id=X_USER_ID,
                    created_at=self._now(),
                    conversation_id=target.conversation_id if target else tweet_id,
                    in_reply_to_user_id=target.author_id if target else None,
                    replied_to_id=target.id if target else None,
                    origin=ORIGIN_API,
                )
            )
            response = Response(
                201,
                {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}},
                headers={"location": f"{self.base_url()}/2/tweets/{tweet_id}"},
            )
            self._record(
                request,
                "x.reply" if target else "x.tweet",
                body,
                response,
                assigned_id=tweet_id,
                target_id=target_id,
                text=text,
            )
            return response

    def _reply_target(self, target_id: str) -> Tweet:
        """The post being answered, if a self-serve app may answer it (summoned replies)."""
        target = self.store.tweets.get(target_id)
        if target is None:
            raise Refusal(
                problem(
                    403,
                    "Forbidden",
                    "You attempted to reply to a Tweet that is deleted or not visible to you.",
                )
            )
        parent = self.store.tweets.get(target.replied_to_id or "")
        engaged = (
            target.author_id == X_USER_ID
            or target.mentions(X_USERNAME)
            or (parent is not None and parent.author_id == X_USER_ID)
        )
        if not engaged:
            raise Refusal(problem(403, "Forbidden", SUMMONED_REFUSAL))
        return target

    def _refuse_duplicate(self, text: str) -> None:
        """X refuses a post whose text repeats one of the account's own posts."""
        normalized = " ".join(text.split()).lower()
        for tweet in self.store.tweets.values():
            if tweet.author_id == X_USER_ID and " ".join(tweet.text.split()).lower() == normalized:
                raise Refusal(
                    problem(
                        403,
                        "Forbidden",
                        "You are not allowed to create a Tweet with duplicate content.",
                    )
                )

    def dm_create_with(self, request: Request, participant_id: str) -> Response:
        return self._dm_create(
            request, dm_conversation_id(participant_id, X_USER_ID), participant_id
        )

    def dm_create_in(self, request: Request, conversation: str) -> Response:
        return self._dm_create(request, conversation, None)

    def _dm_create(self, request: Request, conversation: str, participant: str | None) -> Response:
        body = json_object(request)
        text = body.get("text")
        with self.store.lock:
            try:
                valid_text = require_text(text)
                self._check_dm_allowed(conversation, participant)
            except Refusal as refusal:
                self._record(
                    request, "x.dm", body, refusal.response, target_id=conversation, text=text
                )
                raise
            event_id = self.store.ids.snowflake()
            self.store.add_dm(
                DMEvent(
                    id=event_id,
                    event_type="MessageCreate",
                    sender_id=X_USER_ID,
                    created_at=self._now(),
                    dm_conversation_id=conversation,
                    text=valid_text,
                    origin=ORIGIN_API,
                )
            )
            response = Response(
                201,
                {"data": {"dm_conversation_id": conversation, "dm_event_id": event_id}},
                headers={"location": f'{self.base_url()}/2/dm_events/"{event_id}"'},
            )
            self._record(
                request,
                "x.dm",
                body,
                response,
                assigned_id=event_id,
                target_id=conversation,
                text=text,
            )
            return response

    def _check_dm_allowed(self, conversation: str, participant: str | None) -> None:
        known = any(e.dm_conversation_id == conversation for e in self.store.dm_events.values())
        if participant is None and not known:
            raise Refusal(
                problem(403, "Forbidden", "You are not a participant in this conversation.")
            )
        user = self.store.x_users.get(participant or "")
        if user is not None and not user.accepts_dms and not known:
            raise Refusal(problem(403, "Forbidden", "You cannot send messages to this user."))

    def hide(self, request: Request, tweet_id: str) -> Response:
        body = json_object(request)
        hidden = body.get("hidden")
        with self.store.lock:
            tweet = self.store.tweets.get(tweet_id)
            try:
                if not isinstance(hidden, bool):
                    raise invalid_body("hidden must be a boolean")
                if tweet is None:
                    raise Refusal(
                        problem(
                            404,
                            "Not Found Error",
                            f"Could not find tweet with id: [{tweet_id}].",
                            "resource-not-found",
                        )
                    )
                root = self.store.tweets.get(tweet.conversation_id)
                if tweet.id == tweet.conversation_id or root is None or root.author_id != X_USER_ID:
                    raise Refusal(
                        problem(
                            403,
                            "Forbidden",
                            "You can only hide or unhide replies to conversations you authored.",
                        )
                    )
            except Refusal as refusal:
                self._record(request, "x.hide", body, refusal.response, target_id=tweet_id)
                raise
            tweet.hidden = hidden
            response = Response(200, {"data": {"hidden": hidden}})
            self._record(request, "x.hide", body, response, target_id=tweet_id)
            return response

    # -- helpers ------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def _record(
        self, request: Request, kind: str, body: dict[str, Any], response: Response, **details: Any
    ) -> None:
        ok = 200 <= response.status < 300
        self.store.record_action(
            {
                "platform": "x",
                "kind": kind,
                "method": request.method,
                "path": request.path,
                "body": body,
                "status": response.status,
                "ok": ok,
                "assigned_id": details.pop("assigned_id", None),
                "error": None if ok else response.body,
                "received_at": iso(self.clock()),
                **details,
            }
        )

