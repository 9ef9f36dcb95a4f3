"""Simulated customers: who they are, what they write, and when.

`Scenario.seed_history()` writes the initial data set into the store: conversations
spread over the days before the anchor time, each one a small plan of steps (customer
opens, brand answers, customer writes again) interleaved chronologically so that ids
grow with time as on the real platforms. `Scenario.generate()` adds live traffic: one
new customer item per call, opening a thread or continuing one.

Everything draws from `random.Random` instances seeded from the scenario seed; the
global `random` module is never used, so a seed always gives the same data.
"""

from __future__ import annotations

import abc
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from socialdesk.sandbox import texts
from socialdesk.sandbox.state import (
    FACEBOOK_PAGE_ID,
    FACEBOOK_PAGE_NAME,
    ORIGIN_LIVE,
    ORIGIN_SEED,
    X_NAME,
    X_USER_ID,
    X_USERNAME,
    DMEvent,
    FBComment,
    FBMessage,
    FBPost,
    FBUser,
    Store,
    Tweet,
    XUser,
    dm_conversation_id,
)

CHANNEL_WEIGHTS = {"mention": 30, "dm": 18, "comment": 27, "visitor_post": 10, "messenger": 15}
PUBLIC_PII_RATE = 0.2
PAGE_POST_AGES_DAYS = (6.5, 5, 4, 2.5, 1)
"""Within the 7 days a first Facebook sync reads back, so the static set is reachable whole."""
OLDEST_THREAD_DAYS = 6.4
"""No thread starts before the first Page post, nor outside a first sync's reach."""


@dataclass(frozen=True)
class Customer:
    """One simulated person, present on both platforms (so contacts can be linked)."""

    lang: str
    first: str
    last: str
    x_id: str
    handle: str
    fb_id: str
    email: str
    order: str
    fiscal_code: str
    accepts_dms: bool

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def _ascii(value: str) -> str:
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().replace(" ", "")


def make_customer(rng: random.Random) -> Customer:
    lang = "it" if rng.random() < 0.65 else "en"
    first, last = rng.choice(texts.FIRST_NAMES[lang]), rng.choice(texts.LAST_NAMES[lang])
    handle = (
        f"{_ascii(first).lower()}{_ascii(last)[: rng.randint(1, 6)].lower()}{rng.randint(1, 99)}"
    )
    return Customer(
        lang=lang,
        first=first,
        last=last,
        x_id=str(rng.randint(10**8, 10**18)),
        handle=handle[:15],
        fb_id=str(rng.randint(10**15, 10**16 - 1)),
        email=f"{_ascii(first).lower()}.{_ascii(last).lower()}{rng.randint(70, 99)}@gmail.com",
        order=str(rng.randint(4_000_000, 4_999_999)),
        fiscal_code=rng.choice(texts.FISCAL_CODES),
        accepts_dms=rng.random() > 0.12,
    )


@dataclass
class Line:
    """A sentence a customer or the brand writes, with the personal data it carries."""

    text: str
    pii: tuple[str, ...] = ()


class Voice:
    """Turns a customer, a topic and the rng into what they would write."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def public(self, who: Customer, topic: str, again: bool = False) -> Line:
        """A public post or comment; about one in five carries personal data."""
        base = self._base(who, topic, again)
        if self.rng.random() >= PUBLIC_PII_RATE:
            return Line(base)
        kind = self.rng.choice(sorted(texts.PII_PHRASES))
        phrase = self._fill(self.rng.choice(texts.PII_PHRASES[kind][who.lang]), who)
        return Line(_join(base, phrase), (kind,))

    def private(self, who: Customer, topic: str, again: bool = False) -> Line:
        """A DM or Messenger message: customers share order numbers freely in private."""
        base = self._base(who, topic, again)
        detail = self.rng.choice(texts.PRIVATE_DETAILS[who.lang])
        if not detail:
            return Line(base)
        return Line(_join(base, self._fill(detail, who)), ("REFERENCE",))

    def me_too(self, who: Customer) -> Line:
        return Line(self.rng.choice(texts.ME_TOO[who.lang]))

    def brand(self, who: Customer) -> Line:
        return Line(self.rng.choice(texts.BRAND_REPLIES[who.lang]).format(first=who.first))

    def _base(self, who: Customer, topic: str, again: bool) -> str:
        pool = texts.FOLLOW_UPS[who.lang] if again else texts.OPENERS[topic][who.lang]
        return self.rng.choice(pool)

    @staticmethod
    def _fill(template: str, who: Customer) -> str:
        return template.format(email=who.email, order=who.order, fiscal_code=who.fiscal_code)


def _join(base: str, extra: str) -> str:
    """Glue a clause to a sentence the way people type: comma, or a new sentence after ?!."""
    if base.rstrip()[-1:] in "?!.…🙏😡😕":
        return f"{base} {_capital(extra)}"
    return f"{base}, {extra}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


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
                message=_capital(line.text),
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
                message=_capital(line.text),
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
                message=None if attachment_only else _capital(line.text),
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

Step = tuple[float, bool, Callable[[datetime, Voice], None]]


@dataclass
class Scenario:
    """The simulated world around the brand: its customers, its own posts, their threads."""

    store: Store
    seed: int
    anchor: datetime
    origin: str = ORIGIN_SEED
    customers: list[Customer] = field(default_factory=list)
    brand_tweets: list[Tweet] = field(default_factory=list)
    page_posts: list[FBPost] = field(default_factory=list)
    threads: dict[str, list[Thread]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.live_voice = Voice(random.Random(self.seed * 1_000_003 + 1))
        self.customers = [make_customer(self.rng) for _ in range(24)]
        self.store.x_users[X_USER_ID] = XUser(
            X_USER_ID, X_USERNAME, X_NAME, self.anchor - timedelta(days=900)
        )
        self.store.fb_users[FACEBOOK_PAGE_ID] = FBUser(FACEBOOK_PAGE_ID, FACEBOOK_PAGE_NAME)

    # -- people -------------------------------------------------------------------------

    def ensure_x_user(self, who: Customer) -> None:
        if who.x_id not in self.store.x_users:
            joined = self.anchor - timedelta(days=400 + int(who.x_id) % 3000)
            self.store.x_users[who.x_id] = XUser(
                who.x_id, who.handle, who.name, joined, who.accepts_dms
            )

    def ensure_fb_user(self, who: Customer) -> None:
        self.store.fb_users.setdefault(who.fb_id, FBUser(who.fb_id, who.name))

    def photo(self, rng: random.Random) -> dict[str, object]:
        number = rng.randint(10**14, 10**15)
        return {
            "id": str(number),
            "mime_type": "image/jpeg",
            "name": f"image-{number}",
            "size": rng.randint(40_000, 400_000),
        }

    # -- the initial data set -----------------------------------------------------------

    def seed_history(self, messages: int) -> None:
        """Write exactly `messages` inbound customer items, plus the brand's own posts and echoes.

        Every step, the brand's own posts included, runs in time order, so ids grow with
        creation time on both platforms as they do on the real ones.
        """
        voice = Voice(self.rng)
        timeline = self._brand_content()
        remaining = messages
        while remaining > 0:
            thread = self._new_thread(self.rng, self._pick_channel(self.rng))
            steps = self._plan(thread, remaining)
            remaining -= sum(1 for _, inbound, _ in steps if inbound)
            start = self.anchor - timedelta(seconds=self._start_offset(steps[-1][0]))
            timeline += [
                (start + timedelta(seconds=d), len(timeline) + i, fn)
                for i, (d, _, fn) in enumerate(steps)
            ]
        for at, _, fn in sorted(timeline, key=lambda entry: (entry[0], entry[1])):
            fn(at.replace(microsecond=0), voice)

    def _brand_content(self) -> list[tuple[datetime, int, Callable[[datetime, Voice], None]]]:
        """Steps writing the Page's posts and the brand's tweets that customers answer."""
        steps: list[tuple[datetime, int, Callable[[datetime, Voice], None]]] = []
        for days, text in zip(PAGE_POST_AGES_DAYS, texts.PAGE_POSTS, strict=True):
            steps.append(
                (self.anchor - timedelta(days=days), len(steps), partial(self._page_post, text))
            )
        for days, text in zip((11, 6, 2), texts.BRAND_TWEETS, strict=True):
            steps.append(
                (self.anchor - timedelta(days=days), len(steps), partial(self._brand_tweet, text))
            )
        return steps

    def _page_post(self, text: str, at: datetime, _voice: Voice) -> None:
        self.page_posts.append(
            self.store.add_post(
                FBPost(
                    id=self.store.ids.post(FACEBOOK_PAGE_ID),
                    message=text,
                    from_id=FACEBOOK_PAGE_ID,
                    created_time=at,
                    updated_time=at,
                )
            )
        )

    def _brand_tweet(self, text: str, at: datetime, _voice: Voice) -> None:
        tweet_id = self.store.ids.snowflake()
        self.brand_tweets.append(
            self.store.add_tweet(
                Tweet(
                    id=tweet_id,
                    text=text,
                    author_id=X_USER_ID,
                    created_at=at,
                    conversation_id=tweet_id,
                )
            )
        )

    def _start_offset(self, span: float) -> float:
        """Seconds before the anchor a thread opens: its last step lands in the last 3.5
        days for most threads, 4.5 to 6 days ago for about one in ten. Everything stays
        inside the 7 days a first Facebook sync reads back (`comment_lookback_days`), so a
        first sync can fetch the whole static data set."""
        if self.rng.random() < 0.1:
            offset = span + self.rng.uniform(4.5 * 86400, 6 * 86400)
        else:
            offset = span + self.rng.uniform(60, 3.5 * 86400)
        return min(offset, OLDEST_THREAD_DAYS * 86400)

    @staticmethod
    def _pick_channel(rng: random.Random) -> str:
        return rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]

    def _new_thread(
        self, rng: random.Random, channel: str, customer: Customer | None = None
    ) -> Thread:
        pool = self.customers
        if channel == "dm":
            pool = [c for c in self.customers if c.accepts_dms] or self.customers
        if customer is None or (channel == "dm" and not customer.accepts_dms):
            customer = rng.choice(pool)
        thread = THREAD_TYPES[channel](self, customer, rng.choice(texts.TOPICS))
        self.threads.setdefault(channel, []).append(thread)
        return thread

    def _plan(self, thread: Thread, budget: int) -> list[Step]:
        """Steps of one thread, at seconds after its start, with at most `budget` inbound."""
        steps: list[Step] = [(0.0, True, thread.open)]
        inbound, elapsed = 1, 0.0
        for _ in range(thread.rounds):
            if self.rng.random() < thread.p_brand:
                elapsed += self.rng.uniform(5 * 60, 3 * 3600)
                steps.append((elapsed, False, thread.brand_reply))
            if inbound < budget and self.rng.random() < thread.p_again:
                elapsed += self.rng.uniform(10 * 60, 20 * 3600)
                steps.append((elapsed, True, thread.customer_again))
                inbound += 1
        return steps

    # -- live traffic -------------------------------------------------------------------

    def generate(self, at: datetime) -> None:
        """One new customer item at `at`: a new thread, or a customer writing again."""
        at = at.replace(microsecond=0)
        self.origin = ORIGIN_LIVE
        rng = self.live_voice.rng
        channel = self._pick_channel(rng)
        existing = self.threads.get(channel, [])
        if existing and rng.random() < 0.3:
            rng.choice(existing).customer_again(at, self.live_voice)
            return
        newcomer = None
        if rng.random() < 0.3:
            newcomer = make_customer(rng)
            self.customers.append(newcomer)
        self._new_thread(rng, channel, newcomer).open(at, self.live_voice)
