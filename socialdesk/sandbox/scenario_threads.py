"""Simulated conversations, one class per channel: how a thread opens, is answered, goes on.

Each step writes into the scenario's store the object the platform would hold (a tweet,
a DM event, a comment, a visitor post, a Messenger message), threaded as that channel
threads.
"""

from __future__ import annotations

import abc
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from socialdesk.sandbox.customers import Customer, Line, Voice, capitalised
from socialdesk.sandbox.state import (
    FACEBOOK_PAGE_ID,
    X_USER_ID,
    X_USERNAME,
    DMEvent,
    FBComment,
    FBMessage,
    FBPost,
    Store,
    Tweet,
    dm_conversation_id,
)

if TYPE_CHECKING:
    from socialdesk.sandbox.scenario import Scenario


class Thread(abc.ABC):
    """One conversation on one channel; subclasses know how that channel threads."""

    channel = ""
    rounds = 1
    p_brand = 0.35
    p_again = 0.5

    def __init__(self, scenario: Scenario, customer: Customer, topic: str) -> None:
        self.sc, self.customer, self.topic = scenario, customer, topic

    @property
    def store(self) -> Store:
        return self.sc.store

    @abc.abstractmethod
    def open(self, at: datetime, voice: Voice) -> None:
        """One step of the thread at `at`, written in the customer's (or brand's) voice."""

    @abc.abstractmethod
    def brand_reply(self, at: datetime, voice: Voice) -> None:
        """One step of the thread at `at`, written in the customer's (or brand's) voice."""

    @abc.abstractmethod
    def customer_again(self, at: datetime, voice: Voice) -> None:
        """One step of the thread at `at`, written in the customer's (or brand's) voice."""


class MentionThread(Thread):
    channel = "mention"

    def open(self, at: datetime, voice: Voice) -> None:
        line = voice.public(self.customer, self.topic)
        roots = [t for t in self.sc.brand_tweets if t.created_at < at]
        parent = voice.rng.choice(roots) if roots and voice.rng.random() < 0.2 else None
        self.last = self._tweet(line, at, parent)

    def brand_reply(self, at: datetime, voice: Voice) -> None:
        line = voice.brand(self.customer)
        self.last = self.store.add_tweet(
            Tweet(
                id=self.store.ids.snowflake(),
                text=f"@{self.customer.handle} {line.text}",
                author_id=X_USER_ID,
                created_at=at,
                conversation_id=self.last.conversation_id,
                in_reply_to_user_id=self.last.author_id,
                replied_to_id=self.last.id,
                lang=self.customer.lang,
                origin=self.sc.origin,
            )
        )

    def customer_again(self, at: datetime, voice: Voice) -> None:
        self.last = self._tweet(voice.public(self.customer, self.topic, again=True), at, self.last)

    def _tweet(self, line: Line, at: datetime, parent: Tweet | None) -> Tweet:
        self.sc.ensure_x_user(self.customer)
        tweet_id = self.store.ids.snowflake()
        return self.store.add_tweet(
            Tweet(
                id=tweet_id,
                text=f"@{X_USERNAME} {line.text}",
                author_id=self.customer.x_id,
                created_at=at,
                conversation_id=parent.conversation_id if parent else tweet_id,
                in_reply_to_user_id=parent.author_id if parent else None,
                replied_to_id=parent.id if parent else None,
                lang=self.customer.lang,
                origin=self.sc.origin,
                pii=line.pii,
            )
        )


class DMThread(Thread):
    channel = "dm"
    rounds = 2
    p_brand = 0.6
    p_again = 0.6

    def open(self, at: datetime, voice: Voice) -> None:
        self.sc.ensure_x_user(self.customer)
        if voice.rng.random() < 0.1:
            self._open_group(at, voice)
        else:
            self.conversation = dm_conversation_id(self.customer.x_id, X_USER_ID)
        self._event(self.customer.x_id, voice.private(self.customer, self.topic), at)

    def _open_group(self, at: datetime, voice: Voice) -> None:
        """A group the customer made with a friend and the brand: starts with a join event."""
        friend = voice.rng.choice([c for c in self.sc.customers if c != self.customer])
        self.sc.ensure_x_user(friend)
        self.conversation = self.store.ids.snowflake()
        self.store.add_dm(
            DMEvent(
                id=self.store.ids.snowflake(),
                event_type="ParticipantsJoin",
                sender_id=self.customer.x_id,
                created_at=at - timedelta(seconds=5),
                dm_conversation_id=self.conversation,
                participant_ids=(X_USER_ID, friend.x_id),
                origin=self.sc.origin,
            )
        )

    def brand_reply(self, at: datetime, voice: Voice) -> None:
        self._event(X_USER_ID, voice.brand(self.customer), at)

    def customer_again(self, at: datetime, voice: Voice) -> None:
        self._event(self.customer.x_id, voice.private(self.customer, self.topic, again=True), at)

    def _event(self, sender: str, line: Line, at: datetime) -> None:
        self.store.add_dm(
            DMEvent(
                id=self.store.ids.snowflake(),
                event_type="MessageCreate",
                sender_id=sender,
                created_at=at,
                dm_conversation_id=self.conversation,
                text=line.text,
                origin=self.sc.origin,
                pii=line.pii,
            )
        )


class CommentThread(Thread):
    channel = "comment"
    p_again = 0.45

    def open(self, at: datetime, voice: Voice) -> None:
        posts = [p for p in self.sc.page_posts if p.created_time < at]
        self.post = voice.rng.choice(posts) if posts else self.sc.page_posts[0]
        line = voice.public(self.customer, self.topic)
        self.top = self._comment(self.customer.fb_id, line, at, None, voice)

    def brand_reply(self, at: datetime, voice: Voice) -> None:
        self._comment(FACEBOOK_PAGE_ID, voice.brand(self.customer), at, self.top.id, voice)

    def customer_again(self, at: datetime, voice: Voice) -> None:
        if voice.rng.random() < 0.3:
            other = voice.rng.choice(self.sc.customers)
            self.sc.ensure_fb_user(other)
            self._comment(other.fb_id, voice.me_too(other), at, self.top.id, voice)
            return
        line = voice.public(self.customer, self.topic, again=True)
        self._comment(self.customer.fb_id, line, at, self.top.id, voice)

    def _comment(
        self, author: str, line: Line, at: datetime, parent: str | None, voice: Voice
    ) -> FBComment:
        self.sc.ensure_fb_user(self.customer)
        return self.store.add_comment(
            FBComment(
                id=self.store.ids.comment(self.post.number),
                post_id=self.post.id,
                message=capitalised(line.text),
                from_id=author,
                created_time=at,
                parent_id=parent,
                show_from=author == FACEBOOK_PAGE_ID or voice.rng.random() > 0.1,
                origin=self.sc.origin,
                pii=line.pii,
            )
        )


class VisitorPostThread(CommentThread):
    channel = "visitor_post"
    p_brand = 0.3
    p_again = 0.4

    def open(self, at: datetime, voice: Voice) -> None:
        self.sc.ensure_fb_user(self.customer)
        line = voice.public(self.customer, self.topic)
        self.post = self.store.add_post(
            FBPost(
                id=self.store.ids.post(FACEBOOK_PAGE_ID),
                message=capitalised(line.text),
                from_id=self.customer.fb_id,
                created_time=at,
                updated_time=at,
                origin=self.sc.origin,
                pii=line.pii,
            )
        )
        self.page_comment: FBComment | None = None

    def brand_reply(self, at: datetime, voice: Voice) -> None:
        line = voice.brand(self.customer)
        self.page_comment = self._comment(FACEBOOK_PAGE_ID, line, at, None, voice)

    def customer_again(self, at: datetime, voice: Voice) -> None:
        line = voice.public(self.customer, self.topic, again=True)
        parent = self.page_comment.id if self.page_comment else None
        self._comment(self.customer.fb_id, line, at, parent, voice)


class MessengerThread(Thread):
    channel = "messenger"
    rounds = 2
    p_brand = 0.6
    p_again = 0.6

    def open(self, at: datetime, voice: Voice) -> None:
        self.sc.ensure_fb_user(self.customer)
        self.conversation = self.store.conversation_with(self.customer.fb_id, at)
        self._message(
            self.customer.fb_id,
            FACEBOOK_PAGE_ID,
            voice.private(self.customer, self.topic),
            at,
            voice,
        )

    def brand_reply(self, at: datetime, voice: Voice) -> None:
        self._message(FACEBOOK_PAGE_ID, self.customer.fb_id, voice.brand(self.customer), at, voice)

    def customer_again(self, at: datetime, voice: Voice) -> None:
        line = voice.private(self.customer, self.topic, again=True)
        self._message(self.customer.fb_id, FACEBOOK_PAGE_ID, line, at, voice)

    def _message(self, sender: str, recipient: str, line: Line, at: datetime, voice: Voice) -> None:
        attachment_only = sender != FACEBOOK_PAGE_ID and voice.rng.random() < 0.08
        self.store.add_message(
            FBMessage(
                id=self.store.ids.message(),
                conversation_id=self.conversation.id,
                from_id=sender,
                to_id=recipient,
                created_time=at,
                message=None if attachment_only else capitalised(line.text),
                attachment=self.sc.photo(voice.rng) if attachment_only else None,
                origin=self.sc.origin,
                pii=() if attachment_only else line.pii,
            )
        )


THREAD_TYPES: dict[str, type[Thread]] = {
    "mention": MentionThread,
    "dm": DMThread,
    "comment": CommentThread,
    "visitor_post": VisitorPostThread,
    "messenger": MessengerThread,
}
