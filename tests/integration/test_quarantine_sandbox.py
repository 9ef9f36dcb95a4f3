"""Issue 14 point 6 against the sandbox: bad items are kept, shown and tried again.

Each test syncs in-process on SQLite and PostgreSQL while the sandbox answers with
wrong-typed fields (its fault modes), then checks the store, the list `socialdesk
quarantine` prints, the count `doctor` gives, and what a later pass does with the rows.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

import connectors.x_parse
from connectors._payload import WrongType
from socialdesk.clock import system_clock
from socialdesk.config import Settings, load_settings
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.options import sandbox_config_text
from socialdesk.sandbox.state import FACEBOOK_PAGE_ID, FBComment, FBPost, FBUser
from socialdesk.store.models import Message, QuarantineEntry
from socialdesk.store.quarantine import list_quarantined, waiting_by_account
from socialdesk.sync import AccountResult, sync_accounts
from tests.integration.test_run_sandbox import FAST_LIMITS, fast_config, wait_until

TOKEN = "sandbox-secret-quarantine-6"


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    monkeypatch.setenv(SANDBOX_TOKEN_ENV, TOKEN)
    with SandboxServer(seed=21, static=True, messages=30) as server:
        server.start()
        yield server


@pytest.fixture
def settings(sandbox: SandboxServer, store_url: str, tmp_path: Path) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(sandbox_config_text(sandbox.base_url, store_url), encoding="utf-8")
    return load_settings(path)


def sync(settings: Settings, engine: Engine, account: str) -> AccountResult:
    (result,) = sync_accounts(settings, engine, [account], clock=system_clock)
    assert result.ok, result.failure_reason()
    return result


def rows(engine: Engine) -> list[QuarantineEntry]:
    with Session(engine) as session:
        return list(session.exec(select(QuarantineEntry).order_by(col(QuarantineEntry.id))))


def messages(engine: Engine, platform: str) -> dict[str, Message]:
    with Session(engine) as session:
        found = session.exec(select(Message).where(Message.platform == platform)).all()
    return {message.external_id: message for message in found}


def sandbox_items(sandbox: SandboxServer, channel: str) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in sandbox.state()["items"] if i["channel"] == channel}


def lenient_text(value: Any, field: str) -> str | None:
    """The parser of a later version that reads a number sent as text as its digits."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    raise WrongType(f"{field} is not text")


def test_a_set_aside_mention_is_listed_counted_and_stored_once_the_parser_reads_it(
    sandbox: SandboxServer, settings: Settings, engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox.inject({"target": "x.mentions", "kind": "non_string_text", "count": 1})
    first = sync(settings, engine, "sandbox-x")
    mentions = sandbox_items(sandbox, "mention")
    set_aside = {row.external_id: row for row in rows(engine)}

    assert set(set_aside) and set(set_aside) <= set(mentions)
    assert first.streams[0].quarantined == len(set_aside)
    assert not set(set_aside) & set(messages(engine, "x")), "never stored with empty text"
    assert {row.reason for row in set_aside.values()} == {"mention text is a number, not text"}
    listed = list_quarantined(engine)
    assert {(r.account, r.stream, r.external_id, r.attempts) for r in listed} == {
        ("sandbox-x", "mentions", external_id, 1) for external_id in set_aside}
    assert waiting_by_account(engine) == {"sandbox-x": len(set_aside)}

    sync(settings, engine, "sandbox-x")
    again = rows(engine)
    assert len(again) == len(set_aside), "one row per item, however often it fails"
    assert {row.attempts for row in again} == {2}
    assert all(row.resolved_at is None for row in again)

    monkeypatch.setattr(connectors.x_parse, "optional_text", lenient_text)
    upgraded = sync(settings, engine, "sandbox-x")
    stored = messages(engine, "x")
    assert upgraded.streams[0].recovered == len(set_aside)
    for external_id in set_aside:
        assert stored[external_id].text == str(len(mentions[external_id]["text"]))
        assert stored[external_id].direction == "inbound"
        assert stored[external_id].author_handle, "the author kept with the payload"
    assert all(row.resolved_at is not None for row in rows(engine))
    assert waiting_by_account(engine) == {}
    assert list_quarantined(engine) == []
    assert len(list_quarantined(engine, include_resolved=True)) == len(set_aside)


def test_a_fixed_stored_payload_is_ingested_by_the_next_pass(
    sandbox: SandboxServer, settings: Settings, engine: Engine,
) -> None:
    sandbox.inject({"target": "x.dm_events", "kind": "non_string_text", "count": 1})
    sync(settings, engine, "sandbox-x")
    (row, *others) = rows(engine)
    fixed = {**row.raw, "data": {**row.raw["data"], "text": "fixed by hand"}}
    with Session(engine) as session:
        session.exec(update(QuarantineEntry).where(  # type: ignore[call-overload]
            col(QuarantineEntry.id) == row.id).values(raw=fixed))
        session.commit()

    result = sync(settings, engine, "sandbox-x")

    assert sum(stream.recovered for stream in result.streams) == 1
    assert messages(engine, "x")[row.external_id or ""].text == "fixed by hand"
    assert [r.external_id for r in list_quarantined(engine)] == [o.external_id for o in others]


def test_the_pages_own_posts_stay_the_pages_when_ids_come_as_numbers(
    sandbox: SandboxServer, settings: Settings, engine: Engine,
) -> None:
    with sandbox.store.lock:
        own = next(p for p in sandbox.store.posts.values() if p.from_id == FACEBOOK_PAGE_ID)
        answer = sandbox.store.add_comment(FBComment(
            sandbox.store.ids.comment(own.number), own.id, "We are on it!", FACEBOOK_PAGE_ID,
            sandbox.clock() - timedelta(minutes=1)))
    sandbox.inject({"target": "facebook.feed", "kind": "numeric_ids", "count": 20})
    sync(settings, engine, "sandbox-facebook")

    stored = messages(engine, "facebook")
    own_posts = {p.id for p in sandbox.store.posts.values() if p.from_id == FACEBOOK_PAGE_ID}
    assert not own_posts & set(stored), "the Page's own posts are no customer posts"
    assert stored[answer.id].direction == "outbound"
    customers = {c.id: c for c in sandbox.store.comments.values()
                 if c.from_id != FACEBOOK_PAGE_ID and c.id in stored}
    assert customers
    assert {(stored[i].direction, stored[i].author_external_id) for i in customers} == {
        ("inbound", c.from_id if c.show_from else None) for c in customers.values()}
    too_large = {row.external_id: row.reason for row in rows(engine)}
    authors = {**{p.id: p.from_id for p in sandbox.store.posts.values()},
               **{c.id: c.from_id for c in sandbox.store.comments.values()}}
    assert all(int(authors[i or ""]) >= 2**53 for i in too_large), \
        "only ids a float cannot hold exactly are set aside"
    assert set(too_large.values()) <= {
        "visitor post from.id is a number too large to be exact, not an id",
        "comment from.id is a number too large to be exact, not an id"}


def test_text_that_is_not_text_is_set_aside_then_resolved_when_pulled_whole(
    sandbox: SandboxServer, settings: Settings, engine: Engine,
) -> None:
    sandbox.inject({"target": "facebook.feed", "kind": "non_string_text", "count": 20})
    sync(settings, engine, "sandbox-facebook")
    set_aside = {row.external_id: row for row in rows(engine) if row.stream == "feed"}
    stored = messages(engine, "facebook")

    assert set_aside
    assert not set(set_aside) & set(stored)
    assert all(message.text for message in stored.values()
               if message.channel in ("comment", "visitor_post")
               and message.raw.get("message") is not None), "no text stored empty"
    assert {row.reason.split(" message ")[1] for row in set_aside.values()} == {
        "is a number, not text"}

    sandbox.clear_faults()
    sync(settings, engine, "sandbox-facebook")
    stored = messages(engine, "facebook")
    assert set(set_aside) <= set(stored)
    assert all(stored[i].text for i in set_aside)
    assert waiting_by_account(engine) == {}


def test_a_broken_visitor_post_does_not_take_its_comment_with_it(
    sandbox: SandboxServer, settings: Settings, engine: Engine,
) -> None:
    sandbox.inject({"target": "facebook.feed", "kind": "broken_parent", "count": 2})
    first_post, first_comment = visitor_post_with_comment(sandbox, "Where is my order?", 10)
    sync(settings, engine, "sandbox-facebook")
    stored = messages(engine, "facebook")
    assert first_comment.id in stored
    assert stored[first_comment.id].parent_external_id == first_post.id
    assert [(r.external_id, r.reason) for r in list_quarantined(engine)] == [
        (first_post.id, "visitor post with unparseable created_time")]

    second_post, second_comment = visitor_post_with_comment(sandbox, "Anyone there?", 5)
    sync(settings, engine, "sandbox-facebook")
    stored = messages(engine, "facebook")
    assert {first_post.id, second_comment.id} <= set(stored)
    assert [(r.external_id, r.reason) for r in list_quarantined(engine)] == [
        (None, "visitor post without id")]
    assert second_post.id not in stored


def visitor_post_with_comment(
    sandbox: SandboxServer, text: str, minutes_ago: int
) -> tuple[FBPost, FBComment]:
    """A customer's post with a customer's comment under it, the newest of the feed."""
    store = sandbox.store
    with store.lock:
        store.fb_users["5550002"] = FBUser("5550002", "Marta Neri")
        at = sandbox.clock() - timedelta(minutes=minutes_ago)
        post = store.add_post(FBPost(store.ids.post(FACEBOOK_PAGE_ID), text, "5550002", at, at))
        comment = store.add_comment(FBComment(store.ids.comment(post.number), post.id,
                                              "hello?", "5550002", at + timedelta(minutes=1)))
    return post, comment


def socialdesk(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialdesk", *args, "--config", str(config)],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
    )


def test_sync_lists_and_doctor_counts_the_set_aside_items(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "config.toml", sandbox.base_url)
    sandbox.inject({"target": "x.mentions", "kind": "non_string_text", "count": 1})
    synced = socialdesk(config, "sync")
    assert synced.returncode == 0, synced.stderr
    assert "quarantined: `socialdesk quarantine` lists them" in synced.stderr

    listed = socialdesk(config, "quarantine")
    assert listed.returncode == 0, listed.stderr
    header, *lines = listed.stdout.splitlines()
    assert header.split("\t")[:7] == ["id", "account", "stream", "platform_id", "reason",
                                      "received_at", "attempts"]
    assert lines and all(line.split("\t")[1:3] == ["sandbox-x", "mentions"] for line in lines)
    assert all(line.split("\t")[4] == "mention text is a number, not text" for line in lines)
    assert f"{len(lines)} item(s) waiting" in listed.stderr

    as_json = json.loads(socialdesk(config, "quarantine", "--json").stdout)
    assert [entry["platform_id"] for entry in as_json] == [line.split("\t")[3]
                                                           for line in lines]
    assert {entry["attempts"] for entry in as_json} == {1}

    doctor = socialdesk(config, "doctor")
    assert (f"! quarantine: {len(lines)} item(s) set aside because they could not be read "
            f"(sandbox-x {len(lines)})") in doctor.stdout


def test_run_logs_one_line_per_pass_for_the_items_set_aside(tmp_path: Path) -> None:
    with SandboxServer(seed=21, static=True, messages=30, rate_limits=FAST_LIMITS) as server:
        server.start()
        config = fast_config(server, tmp_path)
        server.inject({"target": "x.mentions", "kind": "non_string_text", "count": 1})
        process = subprocess.Popen(
            [sys.executable, "-m", "socialdesk", "run", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
        )
        try:
            engine = create_engine(f"sqlite:///{config.parent / 'socialdesk.db'}")
            assert wait_until(lambda: _passes_after_fault(engine) >= 2, 60)
            engine.dispose()
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=60)
    waiting = [line for line in stderr.splitlines() if "set aside this pass" in line]
    assert len(waiting) == 1, stderr
    assert re.search(r"sandbox-x/mentions: (\d+) item\(s\) set aside this pass, 0 recovered",
                     waiting[0])
    assert int(re.findall(r"(\d+) item\(s\)", waiting[0])[0]) > 1, "one line, many items"


def _passes_after_fault(engine: Engine) -> int:
    """How often the set-aside mentions were read and failed (walk, then each re-read)."""
    try:
        return max((row.attempts for row in rows(engine)), default=0)
    except OperationalError:  # the first pass has not created the tables yet
        return 0
