"""The simulated world around the brand: which customers open which threads, and when.

`Scenario.seed_history()` writes the initial data set into the store: conversations
spread over the days before the anchor time, each one a small plan of steps (customer
opens, brand answers, customer writes again) interleaved chronologically so that ids
grow with time as on the real platforms. `Scenario.generate()` adds live traffic: one
new customer item per call, opening a thread or continuing one. The people and their
voices are in `customers`, the threads per channel in `threads`.

Everything draws from `random.Random` instances seeded from the scenario seed; the
global `random` module is never used, so a seed always gives the same data.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from socialdesk.sandbox import texts
from socialdesk.sandbox.customers import Customer, Voice, make_customer
from socialdesk.sandbox.scenario_threads import THREAD_TYPES, Thread
from socialdesk.sandbox.state import (
    FACEBOOK_PAGE_ID,
    FACEBOOK_PAGE_NAME,
    ORIGIN_LIVE,
    ORIGIN_SEED,
    X_NAME,
    X_USER_ID,
    X_USERNAME,
    FBPost,
    FBUser,
    Store,
    Tweet,
    XUser,
)

CHANNEL_WEIGHTS = {"mention": 30, "dm": 18, "comment": 27, "visitor_post": 10, "messenger": 15}
PAGE_POST_AGES_DAYS = (6.5, 5, 4, 2.5, 1)
"""Within the 7 days a first Facebook sync reads back, so the static set is reachable whole."""
OLDEST_THREAD_DAYS = 6.4
"""No thread starts before the first Page post, nor outside a first sync's reach."""


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
