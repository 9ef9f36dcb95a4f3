"""The sandbox's data store: every simulated post, message and write, behind one lock.

Records are plain dataclasses in the platforms' own terms (tweets, DM events, Page posts,
comments, Messenger conversations and messages). The wire modules render them; the
scenario fills them; `snapshot()` is what `GET /__sandbox__/state` returns.
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# The brand account the sandbox simulates, on both platforms.
X_USER_ID = "1460932158792646658"
X_USERNAME = "EmporioLumen"
X_NAME = "Emporio Lumen"
FACEBOOK_PAGE_ID = "104857362918273"
FACEBOOK_PAGE_NAME = "Emporio Lumen"

ORIGIN_SEED = "seed"  # part of the initial data set
ORIGIN_LIVE = "live"  # written by a simulated customer after start
ORIGIN_API = "api"  # created through the API by the client under test


@dataclass
class XUser:
    id: str
    username: str
    name: str
    created_at: datetime
    accepts_dms: bool = True


@dataclass
class Tweet:
    id: str
    text: str
    author_id: str
    created_at: datetime
    conversation_id: str
    in_reply_to_user_id: str | None = None
    replied_to_id: str | None = None
    lang: str = "it"
    hidden: bool = False
    origin: str = ORIGIN_SEED
    pii: tuple[str, ...] = ()

    def mentions(self, username: str) -> bool:
        return f"@{username.lower()}" in self.text.lower()


@dataclass
class DMEvent:
    id: str
    event_type: str
    sender_id: str
    created_at: datetime
    dm_conversation_id: str
    text: str | None = None
    participant_ids: tuple[str, ...] = ()
    origin: str = ORIGIN_SEED
    pii: tuple[str, ...] = ()


@dataclass
class FBUser:
    id: str
    name: str


@dataclass
class FBPost:
    id: str
    message: str
    from_id: str
    created_time: datetime
    updated_time: datetime
    hidden: bool = False
    private_reply_message_id: str | None = None
    origin: str = ORIGIN_SEED
    pii: tuple[str, ...] = ()

    @property
    def number(self) -> str:
        return self.id.split("_", 1)[1]


@dataclass
class FBComment:
    id: str
    post_id: str
    message: str
    from_id: str
    created_time: datetime
    parent_id: str | None = None
    show_from: bool = True
    hidden: bool = False
    private_reply_message_id: str | None = None
    origin: str = ORIGIN_SEED
    pii: tuple[str, ...] = ()


@dataclass
class FBConversation:
    id: str
    user_id: str
    updated_time: datetime


@dataclass
class FBMessage:
    id: str
    conversation_id: str
    from_id: str
    to_id: str
    created_time: datetime
    message: str | None = None
    attachment: dict[str, Any] | None = None
    origin: str = ORIGIN_SEED
    pii: tuple[str, ...] = ()


class IdFactory:
    """Deterministic, increasing ids in each platform's shape.

    X ids are snowflake-like 19-digit strings shared by tweets and DM events, so they
    grow with creation order as real ones grow with time.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed * 7919 + 17)
        self._snowflake = 1_996_204_117_000_000_000
        self._fb_post = 122_118_000_000_000_000
        self._fb_comment = 1_187_000_000_000_000
        self._conversation = 587_000_000_000_000

    def snowflake(self) -> str:
        self._snowflake += self._rng.randint(1 << 22, 1 << 34)
        return str(self._snowflake)

    def post(self, page_id: str) -> str:
        self._fb_post += self._rng.randint(1, 10_000)
        return f"{page_id}_{self._fb_post}"

    def comment(self, post_number: str) -> str:
        self._fb_comment += self._rng.randint(1, 10_000)
        return f"{post_number}_{self._fb_comment}"

    def conversation(self) -> str:
        self._conversation += self._rng.randint(1, 1_000_000)
        return f"t_{self._conversation}"

    def message(self) -> str:
        alphabet = string.ascii_letters + string.digits + "-_"
        return "m_" + "".join(self._rng.choice(alphabet) for _ in range(86))


def dm_conversation_id(a: str, b: str) -> str:
    """One-to-one X conversations are named `{smaller id}-{larger id}`, compared as numbers."""
    low, high = sorted((a, b), key=int)
    return f"{low}-{high}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


@dataclass
class Store:
    """All sandbox data. Callers hold `lock` around any read-modify-write sequence."""

    ids: IdFactory
    lock: threading.RLock = field(default_factory=threading.RLock)
    x_users: dict[str, XUser] = field(default_factory=dict)
    tweets: dict[str, Tweet] = field(default_factory=dict)
    dm_events: dict[str, DMEvent] = field(default_factory=dict)
    fb_users: dict[str, FBUser] = field(default_factory=dict)
    posts: dict[str, FBPost] = field(default_factory=dict)
    comments: dict[str, FBComment] = field(default_factory=dict)
    conversations: dict[str, FBConversation] = field(default_factory=dict)
    messages: dict[str, FBMessage] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)

    # -- writes -------------------------------------------------------------------------

    def add_tweet(self, tweet: Tweet) -> Tweet:
        self.tweets[tweet.id] = tweet
        return tweet

    def add_dm(self, event: DMEvent) -> DMEvent:
        self.dm_events[event.id] = event
        return event

    def add_post(self, post: FBPost) -> FBPost:
        self.posts[post.id] = post
        return post

    def add_comment(self, comment: FBComment) -> FBComment:
        self.comments[comment.id] = comment
        post = self.posts[comment.post_id]
        post.updated_time = max(post.updated_time, comment.created_time)
        return comment

    def conversation_with(self, user_id: str, at: datetime) -> FBConversation:
        """The Messenger conversation between the Page and `user_id`, created if new."""
        for conversation in self.conversations.values():
            if conversation.user_id == user_id:
                return conversation
        conversation = FBConversation(self.ids.conversation(), user_id, at)
        self.conversations[conversation.id] = conversation
        return conversation

    def add_message(self, message: FBMessage) -> FBMessage:
        self.messages[message.id] = message
        conversation = self.conversations[message.conversation_id]
        conversation.updated_time = max(conversation.updated_time, message.created_time)
        return message

    def record_action(self, action: dict[str, Any]) -> dict[str, Any]:
        action = {"seq": len(self.actions) + 1, **action}
        self.actions.append(action)
        return action

    # -- reads --------------------------------------------------------------------------

    def conversation_messages(self, conversation_id: str) -> list[FBMessage]:
        return [m for m in self.messages.values() if m.conversation_id == conversation_id]

    def last_message_from(self, user_id: str) -> FBMessage | None:
        """The person's newest Messenger message: it opens the 24-hour window."""
        sent = [m for m in self.messages.values() if m.from_id == user_id]
        return max(sent, key=lambda m: m.created_time, default=None)

    def snapshot(self) -> dict[str, Any]:
        """Every item and every write, as plain JSON-ready data."""
        with self.lock:
            items = [
                *self._tweet_items(),
                *self._dm_items(),
                *self._post_items(),
                *self._comment_items(),
                *self._message_items(),
            ]
            items.sort(key=lambda item: (item["created_at"], item["seq"]))
            for item in items:
                del item["seq"]
            return {"items": items, "actions": [dict(a) for a in self.actions]}

    def _tweet_items(self) -> Iterable[dict[str, Any]]:
        for seq, tweet in enumerate(self.tweets.values()):
            own = tweet.author_id == X_USER_ID
            author = self.x_users.get(tweet.author_id)
            yield {
                "seq": seq,
                "platform": "x",
                "channel": "post" if own or not tweet.mentions(X_USERNAME) else "mention",
                "id": tweet.id,
                "text": tweet.text,
                "author_id": tweet.author_id,
                "author_handle": author.username if author else None,
                "author_name": author.name if author else None,
                "created_at": iso(tweet.created_at),
                "thread_id": tweet.conversation_id,
                "parent_id": tweet.replied_to_id,
                "hidden": tweet.hidden,
                "direction": "outbound" if own else "inbound",
                "origin": tweet.origin,
                "pii": list(tweet.pii),
                "lang": tweet.lang,
            }

    def _dm_items(self) -> Iterable[dict[str, Any]]:
        for seq, event in enumerate(self.dm_events.values()):
            author = self.x_users.get(event.sender_id)
            yield {
                "seq": seq,
                "platform": "x",
                "channel": "dm",
                "id": event.id,
                "event_type": event.event_type,
                "text": event.text or "",
                "author_id": event.sender_id,
                "author_handle": author.username if author else None,
                "author_name": author.name if author else None,
                "created_at": iso(event.created_at),
                "thread_id": event.dm_conversation_id,
                "parent_id": None,
                "hidden": False,
                "direction": "outbound" if event.sender_id == X_USER_ID else "inbound",
                "origin": event.origin,
                "pii": list(event.pii),
            }

    def _post_items(self) -> Iterable[dict[str, Any]]:
        for seq, post in enumerate(self.posts.values()):
            own = post.from_id == FACEBOOK_PAGE_ID
            yield {
                "seq": seq,
                "platform": "facebook",
                "channel": "post" if own else "visitor_post",
                "id": post.id,
                "text": post.message,
                "author_id": post.from_id,
                "author_name": self._fb_name(post.from_id),
                "author_handle": None,
                "created_at": iso(post.created_time),
                "thread_id": post.id,
                "parent_id": None,
                "hidden": post.hidden,
                "private_reply_message_id": post.private_reply_message_id,
                "direction": "outbound" if own else "inbound",
                "origin": post.origin,
                "pii": list(post.pii),
            }

    def _comment_items(self) -> Iterable[dict[str, Any]]:
        for seq, comment in enumerate(self.comments.values()):
            yield {
                "seq": seq,
                "platform": "facebook",
                "channel": "comment",
                "id": comment.id,
                "text": comment.message,
                "author_id": comment.from_id,
                "author_name": self._fb_name(comment.from_id),
                "author_handle": None,
                "created_at": iso(comment.created_time),
                "thread_id": self._comment_thread(comment),
                "post_id": comment.post_id,
                "parent_id": comment.parent_id,
                "hidden": comment.hidden,
                "author_visible": comment.show_from,
                "private_reply_message_id": comment.private_reply_message_id,
                "direction": "outbound" if comment.from_id == FACEBOOK_PAGE_ID else "inbound",
                "origin": comment.origin,
                "pii": list(comment.pii),
            }

    def _message_items(self) -> Iterable[dict[str, Any]]:
        for seq, message in enumerate(self.messages.values()):
            yield {
                "seq": seq,
                "platform": "facebook",
                "channel": "messenger",
                "id": message.id,
                "text": message.message or "",
                "author_id": message.from_id,
                "author_name": self._fb_name(message.from_id),
                "author_handle": None,
                "created_at": iso(message.created_time),
                "thread_id": message.conversation_id,
                "parent_id": None,
                "hidden": False,
                "has_attachment": message.attachment is not None,
                "direction": "outbound" if message.from_id == FACEBOOK_PAGE_ID else "inbound",
                "origin": message.origin,
                "pii": list(message.pii),
            }

    def _comment_thread(self, comment: FBComment) -> str:
        """A visitor post's comments thread on the post; a Page post's, on the top comment."""
        if self.posts[comment.post_id].from_id != FACEBOOK_PAGE_ID:
            return comment.post_id
        return comment.parent_id or comment.id

    def _fb_name(self, user_id: str) -> str | None:
        user = self.fb_users.get(user_id)
        return user.name if user else None
