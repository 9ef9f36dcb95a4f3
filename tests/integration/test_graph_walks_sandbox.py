"""Facebook walks against the sandbox while customers keep writing, and when a walk is cut
short: a page cap, a throttle, a repeating cursor, a request Graph finds too heavy."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from connectors._http import RetryPolicy
from connectors.base import (
    AccountSettings,
    PaginationLoop,
    PullPage,
    RateLimited,
    WalkIncomplete,
)
from connectors.facebook import FacebookConnector, decode_cursor
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.state import FACEBOOK_PAGE_ID, FBComment, FBMessage, FBPost, FBUser
from socialdesk.store.models import Message

TOKEN = "sandbox-secret-walks"
EXTRA_CONVERSATIONS = 90
"""Enough Messenger conversations that a walk spans four list pages."""


@pytest.fixture
def busy_page() -> Iterator[SandboxServer]:
    """A static sandbox whose Page has many Messenger conversations, spread over six days."""
    with SandboxServer(seed=11, static=True, messages=120, timeout_seconds=0.5) as server:
        _add_conversations(server, EXTRA_CONVERSATIONS, random.Random(11))
        server.start()
        yield server


def _add_conversations(server: SandboxServer, count: int, rng: random.Random) -> None:
    now = server.clock().replace(microsecond=0)
    with server.store.lock:
        for n in range(count):
            user = FBUser(f"7{n:09d}", f"Customer {n}")
            server.store.fb_users[user.id] = user
            opened = now - timedelta(seconds=rng.randint(3600, 6 * 86400))
            conversation = server.store.conversation_with(user.id, opened)
            for step in range(rng.randint(2, 6)):
                _message(server, conversation.id, user.id, opened + timedelta(minutes=7 * step))


def _message(server: SandboxServer, conversation_id: str, sender: str, at: datetime) -> None:
    server.store.add_message(FBMessage(
        id=server.store.ids.message(), conversation_id=conversation_id, from_id=sender,
        to_id=FACEBOOK_PAGE_ID, created_time=at.replace(microsecond=0),
        message=f"still waiting, {at:%H:%M:%S}"))


class Customers:
    """A thread writing a Messenger message into a random existing conversation every few
    milliseconds: each one jumps to the top of the conversation list."""

    def __init__(self, server: SandboxServer, every: float = 0.003) -> None:
        self.server, self.every = server, every
        self.stop = threading.Event()
        self.written = 0
        self.rng = random.Random(5)
        self.thread = threading.Thread(target=self._write, daemon=True)

    def __enter__(self) -> Customers:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()

    def _write(self) -> None:
        while not self.stop.wait(self.every):
            with self.server.store.lock:
                conversation = self.rng.choice(list(self.server.store.conversations.values()))
                _message(self.server, conversation.id, conversation.user_id, self.server.clock())
                self.written += 1


def messenger_ids(server: SandboxServer) -> set[str]:
    return {i["id"] for i in server.state()["items"] if i["channel"] == "messenger"}


def connector(server: SandboxServer, **kwargs: object) -> FacebookConnector:
    account = AccountSettings(
        name="walks", platform="facebook", base_url=server.base_url,
        secrets={"page_token": TOKEN}, options={"page_id": FACEBOOK_PAGE_ID})
    retry = RetryPolicy(attempts=1, sleep=lambda _: None)
    return FacebookConnector(account, retry=retry, **kwargs)  # type: ignore[arg-type]


def pull_until_done(
    build: FacebookConnector, stream: str, cursor: str | None, passes: int = 20
) -> tuple[list[PullPage], str | None, int]:
    """Pull as cron would until a pull ends without stopping early; (pages, cursor, pulls)."""
    pages: list[PullPage] = []
    for pulls in range(1, passes + 1):
        try:
            for page in build.pull(stream, cursor):
                pages.append(page)
                cursor = page.cursor or cursor
        except WalkIncomplete:
            continue
        return pages, cursor, pulls
    raise AssertionError(f"the walk did not finish in {passes} pulls")


def item_ids(pages: list[PullPage]) -> set[str]:
    return {item.external_id for page in pages for item in page.items}


# --- point 4: Messenger read while customers keep writing ----------------------------------


def sync(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialdesk", "sync", "--config", str(config),
         "--account", "sandbox-facebook"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN})


def stored_messenger_ids(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    with Session(engine) as session:
        rows = session.exec(select(Message.external_id).where(
            Message.platform == "facebook")).all()
    engine.dispose()
    return set(rows)


def test_a_sync_while_customers_keep_writing_stores_every_messenger_message(
    busy_page: SandboxServer, store_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", busy_page.base_url)
    config.write_text("\n".join(
        f'url = "{store_url}"' if line.startswith("url = ") else line
        for line in config.read_text().splitlines()) + "\n")
    with Customers(busy_page) as customers:
        during = sync(config)
    # Customers writing faster than the walk can check its top defer the rest to the next pass.
    assert during.returncode == 0 or "next pull checks again" in during.stderr, during.stderr
    assert customers.written > 50, "the customers wrote while the walk ran"
    after = sync(config)  # the next cron pass, once they stopped
    assert after.returncode == 0, after.stderr

    missing = messenger_ids(busy_page) - stored_messenger_ids(store_url)
    assert not missing, f"{len(missing)} Messenger messages never stored"


def test_a_walk_rereads_a_conversation_that_moved_to_the_top_behind_it(
    busy_page: SandboxServer,
) -> None:
    """Deterministic: after the first list page, the oldest conversation gets a message."""
    reader = connector(busy_page)
    pages = reader.pull("messenger", None)
    first = next(pages)
    with busy_page.store.lock:
        oldest = min(busy_page.store.conversations.values(), key=lambda c: c.updated_time)
        old_messages = {m.id for m in busy_page.store.conversation_messages(oldest.id)}
        _message(busy_page, oldest.id, oldest.user_id, busy_page.clock())
    rest = list(pages)

    read = item_ids([first, *rest])
    assert old_messages <= read
    assert messenger_ids(busy_page) <= read
    assert "walk" not in json.loads(rest[-1].cursor or "{}")


# --- points 3 and 5: caps, throttles and loops never move the watermark ---------------------


def test_a_page_cap_stops_the_walk_and_the_next_pulls_resume_it(busy_page: SandboxServer) -> None:
    reader = connector(busy_page, page_cap=1)
    first_pull: list[PullPage] = []
    with pytest.raises(WalkIncomplete, match="next pull goes on"):
        first_pull.extend(reader.pull("messenger", None))
    assert len(first_pull) == 1
    assert decode_cursor(first_pull[-1].cursor)[0] is None, "the watermark did not move"

    pages, cursor, pulls = pull_until_done(reader, "messenger", first_pull[-1].cursor)
    assert pulls >= 3
    assert messenger_ids(busy_page) <= item_ids(first_pull + pages)
    assert not item_ids(first_pull) & item_ids(pages), "a resumed walk does not start over"
    assert decode_cursor(cursor)[0] is not None


def test_a_throttle_mid_walk_resumes_where_it_stopped(busy_page: SandboxServer) -> None:
    reader = connector(busy_page)
    pages = reader.pull("messenger", None)
    first = next(pages)
    busy_page.inject({"target": "facebook.conversations", "kind": "rate_limit"})
    with pytest.raises(RateLimited):
        list(pages)

    resumed, _, _ = pull_until_done(reader, "messenger", first.cursor)
    assert messenger_ids(busy_page) <= item_ids([first, *resumed])
    assert not item_ids([first]) & item_ids(resumed)


@pytest.mark.parametrize(("stream", "target"), [("messenger", "facebook.conversations"),
                                                ("feed", "facebook.feed")])
def test_a_repeating_cursor_fails_the_pull_and_keeps_the_watermark(
    busy_page: SandboxServer, stream: str, target: str
) -> None:
    reader = connector(busy_page, page_cap=50)
    _, finished, _ = pull_until_done(reader, stream, None)
    watermark = decode_cursor(finished)[0]
    for conversation in list(busy_page.store.conversations.values())[:60]:
        _message(busy_page, conversation.id, conversation.user_id, busy_page.clock())
    if stream == "feed":
        _add_old_posts(busy_page, 60)
    busy_page.inject({"target": target, "kind": "paging_loop"})

    looped: list[PullPage] = []
    with pytest.raises(PaginationLoop):
        looped.extend(reader.pull(stream, finished))
    assert looped, "the pages before the loop are stored"
    assert all(decode_cursor(page.cursor)[0] == watermark for page in looped)


def _add_old_posts(server: SandboxServer, count: int) -> None:
    """Visitor posts with a fresh comment each, so the feed spans several pages."""
    now = server.clock().replace(microsecond=0)
    with server.store.lock:
        for n in range(count):
            post = server.store.add_post(FBPost(
                id=server.store.ids.post(FACEBOOK_PAGE_ID), message=f"question {n}",
                from_id=f"7{n:09d}", created_time=now - timedelta(hours=n + 1),
                updated_time=now - timedelta(hours=n + 1)))
            server.store.add_comment(FBComment(
                id=server.store.ids.comment(post.number), post_id=post.id,
                message="any news?", from_id=f"7{n:09d}", created_time=now))


# --- point 7: Facebook as it really behaves -------------------------------------------------


def test_a_comment_today_on_an_eight_day_old_post_arrives(busy_page: SandboxServer) -> None:
    reader = connector(busy_page)
    now = busy_page.clock().replace(microsecond=0)
    with busy_page.store.lock:
        post = busy_page.store.add_post(FBPost(
            id=busy_page.store.ids.post(FACEBOOK_PAGE_ID), message="Our autumn sale",
            from_id=FACEBOOK_PAGE_ID, created_time=now - timedelta(days=8),
            updated_time=now - timedelta(days=8)))
    _, cursor, _ = pull_until_done(reader, "feed", None)

    with busy_page.store.lock:
        comment = busy_page.store.add_comment(FBComment(
            id=busy_page.store.ids.comment(post.number), post_id=post.id,
            message="Is the sale still on?", from_id="7000000001",
            created_time=busy_page.clock().replace(microsecond=0)))
    pages, _, _ = pull_until_done(reader, "feed", cursor)
    assert comment.id in item_ids(pages)


def test_graph_asking_for_less_data_halves_the_page_and_the_walk_goes_on(
    busy_page: SandboxServer,
) -> None:
    _add_old_posts(busy_page, 40)
    busy_page.inject({"target": "facebook.feed", "kind": "too_much_data", "count": 1000})
    pages, _, _ = pull_until_done(connector(busy_page), "feed", None)

    expected = {i["id"] for i in busy_page.state()["items"]
                if i["channel"] in ("comment", "visitor_post")}
    assert expected <= item_ids(pages)
    assert any("less data" in warning for page in pages for warning in page.warnings)
