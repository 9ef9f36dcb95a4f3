"""The privacy guard end to end: `socialdesk sync` in a subprocess against the sandbox.

A customer leaves personal data in public; after one sync the sandbox shows the post
hidden (Facebook), one private message, one neutral public reply that repeats nothing,
and the store shows the conversations linked, the exposure (types only) and audit rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from sqlmodel import Session, select

from socialdesk.clock import system_clock
from socialdesk.config import load_settings
from socialdesk.privacy.suggestions import accept_suggestion
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.state import (
    FACEBOOK_PAGE_ID,
    X_USER_ID,
    X_USERNAME,
    FBComment,
    FBUser,
    Tweet,
    XUser,
)
from socialdesk.store.models import AuditEntry, Conversation, Message, PrivacyExposure

TOKEN = "sandbox-secret-privacy-4"
PHONE = "347 123 4567"
IBAN = "IT60X0542811101000000123456"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=11, static=True, messages=6) as server:
        server.start()
        yield server


@pytest.fixture
def config_path(sandbox: SandboxServer, tmp_path: Path) -> Path:
    path = write_config(tmp_path / "config.toml", sandbox.base_url)
    path.write_text(path.read_text() + '\n[privacy]\nmode = "auto"\n')
    return path


@pytest.fixture
def store(config_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{config_path.parent / 'socialdesk.db'}")
    yield engine
    engine.dispose()


def sync(config_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialdesk", "sync", "--config", str(config_path)],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
    )


def comment_with(sandbox: SandboxServer, text: str) -> FBComment:
    """A new customer comment under one of the Page's own posts."""
    store = sandbox.store
    with store.lock:
        post = next(p for p in store.posts.values() if p.from_id == FACEBOOK_PAGE_ID)
        store.fb_users["5550001"] = FBUser("5550001", "Giulia Verdi")
        comment = FBComment(store.ids.comment(post.number), post.id, text, "5550001",
                            sandbox.clock() - timedelta(minutes=5))
        return store.add_comment(comment)


def mention_with(sandbox: SandboxServer, text: str, accepts_dms: bool = True) -> Tweet:
    store = sandbox.store
    now = sandbox.clock()
    with store.lock:
        user = XUser("880001", "jdoe_iban", "John Doe", now - timedelta(days=900), accepts_dms)
        store.x_users[user.id] = user
        tweet_id = store.ids.snowflake()
        tweet = Tweet(tweet_id, text, user.id, now - timedelta(minutes=3), tweet_id)
        return store.add_tweet(tweet)


def actions_on(sandbox: SandboxServer, target: str) -> list[dict[str, Any]]:
    """Writes the platform performed about one post: replies, hides, private messages."""
    found = []
    for action in sandbox.state()["actions"]:
        if not action["ok"]:
            continue
        recipient = action.get("recipient") or {}
        if target in (action.get("target_id"), recipient.get("comment_id")):
            found.append(action)
    return found


def customer_message(engine: Engine, external_id: str) -> tuple[Message, Conversation]:
    with Session(engine) as session:
        message = session.exec(select(Message).where(Message.external_id == external_id)).one()
        conversation = session.get(Conversation, message.conversation_id)
        assert conversation is not None
        return message, conversation


def audit_actions(engine: Engine, conversation_id: int) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(AuditEntry).where(
            AuditEntry.target_type == "conversation", AuditEntry.target_id == str(conversation_id)
        )).all()
        return [row.action for row in rows]


def test_facebook_comment_with_a_phone_is_hidden_and_answered_privately(
    sandbox: SandboxServer, config_path: Path, store: Engine
) -> None:
    comment = comment_with(sandbox, f"Non riesco ad accedere, chiamatemi al {PHONE} grazie")

    result = sync(config_path)

    assert result.returncode == 0, result.stderr
    assert sandbox.store.comments[comment.id].hidden is True
    kinds = sorted(action["kind"] for action in actions_on(sandbox, comment.id))
    assert kinds == ["facebook.hide", "facebook.private_reply", "facebook.reply"]
    public = next(a for a in actions_on(sandbox, comment.id) if a["kind"] == "facebook.reply")
    assert "4567" not in public["body"]["message"].replace(" ", "")
    assert "Giulia" in public["body"]["message"]
    message, conversation = customer_message(store, comment.id)
    assert conversation.redirected_at is not None
    assert conversation.redirected_to_id not in (None, conversation.id)
    with Session(store) as session:
        private = session.get(Conversation, conversation.redirected_to_id)
        exposure = session.exec(select(PrivacyExposure).where(
            PrivacyExposure.message_id == message.id)).one()
    assert private is not None and private.channel == "messenger"
    assert (exposure.types, exposure.outcome) == ("PHONE", "done")
    assert PHONE not in str(exposure.plan) and "1234567" not in str(exposure.plan)
    audited = set(audit_actions(store, conversation.id))
    assert {"privacy_guard.detect", "privacy_guard.redirect"} <= audited


def test_x_mention_with_an_iban_gets_a_dm_and_a_public_pointer(
    sandbox: SandboxServer, config_path: Path, store: Engine
) -> None:
    tweet = mention_with(sandbox, f"@{X_USERNAME} my refund never came, IBAN {IBAN} please check")

    result = sync(config_path)

    assert result.returncode == 0, result.stderr
    state = sandbox.state()
    dms = [a for a in state["actions"] if a["ok"] and a["kind"] == "x.dm"
           and "880001" in a["path"]]
    replies = actions_on(sandbox, tweet.id)
    assert len(dms) == 1 and len(replies) == 1
    pointer = replies[0]["body"]["text"]
    assert "@jdoe_iban" in pointer and "x.com/messages" not in pointer
    assert "123456" not in pointer and "IT60" not in pointer
    message, conversation = customer_message(store, tweet.id)
    assert conversation.redirected_at is not None
    with Session(store) as session:
        private = session.get(Conversation, conversation.redirected_to_id)
    assert private is not None and private.channel == "dm"
    assert "privacy_guard.redirect" in audit_actions(store, conversation.id)


def test_x_customer_who_refuses_dms_gets_the_dm_link_in_public(
    sandbox: SandboxServer, config_path: Path, store: Engine
) -> None:
    tweet = mention_with(sandbox, f"@{X_USERNAME} IBAN {IBAN} per il rimborso, grazie",
                         accepts_dms=False)

    result = sync(config_path)

    assert result.returncode == 0, result.stderr
    replies = actions_on(sandbox, tweet.id)
    assert len(replies) == 1
    assert f"https://x.com/messages/compose?recipient_id={X_USER_ID}" in replies[0]["body"]["text"]
    _, conversation = customer_message(store, tweet.id)
    with Session(store) as session:
        exposure = session.exec(select(PrivacyExposure).where(
            PrivacyExposure.conversation_id == conversation.id)).one()
    assert exposure.outcome == "partial"
    assert exposure.language == "it"


def test_suggest_mode_waits_for_the_operator_then_acts_on_one_key(
    sandbox: SandboxServer, config_path: Path, store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path.write_text(config_path.read_text().replace('mode = "auto"', 'mode = "suggest"'))
    comment = comment_with(sandbox, f"Il mio numero è {PHONE}, richiamatemi")

    assert sync(config_path).returncode == 0
    assert actions_on(sandbox, comment.id) == []
    message, _ = customer_message(store, comment.id)
    with Session(store) as session:
        exposure = session.exec(select(PrivacyExposure).where(
            PrivacyExposure.message_id == message.id)).one()
    assert exposure.outcome == "suggested"

    monkeypatch.setenv(SANDBOX_TOKEN_ENV, TOKEN)
    accepted = accept_suggestion(store, load_settings(config_path), exposure.id or 0, "MR",
                                 now=system_clock)

    assert accepted.outcome == "done" and accepted.resolved_by == "MR"
    assert sandbox.store.comments[comment.id].hidden is True
    assert len(actions_on(sandbox, comment.id)) == 3


def test_the_redirects_report_lists_types_and_actions_never_values(
    sandbox: SandboxServer, config_path: Path
) -> None:
    import csv
    import io

    comment_with(sandbox, f"Mi chiamate al {PHONE}? Grazie")
    assert sync(config_path).returncode == 0
    result = subprocess.run(
        [sys.executable, "-m", "socialdesk", "report", "redirects", "--config",
         str(config_path)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and all(row["data_types"] and row["actions"] for row in rows)
    phone_comments = [r for r in rows if r["channel"] == "comment" and r["data_types"] == "PHONE"
                      and r["outcome"] == "done"]
    assert phone_comments, rows
    row = phone_comments[-1]
    assert "hide" in row["actions"] and "private_reply" in row["actions"]
    assert row["actions"].count(": sent") == 3
    assert row["private_conversation_id"] != ""
    # the number, spaced or not; "347" alone can be a timestamp's microseconds
    assert PHONE not in result.stdout and PHONE.replace(" ", "") not in result.stdout


def test_a_repeat_customer_gets_a_pointer_x_accepts_every_time(
    sandbox: SandboxServer, config_path: Path, store: Engine
) -> None:
    """X refuses a post that repeats one of the account's own: the same wording for the
    same @handle failed the second pointer (issue 15 point 2). Three mentions, one of them
    on a later pass: three pointers accepted, three wordings, none with the data or a URL."""
    data = [f"IBAN {IBAN}", f"chiamatemi al {PHONE}", "my mobile is 320 987 6543"]
    first = [mention_with(sandbox, f"@{X_USERNAME} rimborso? {data[0]}"),
             mention_with(sandbox, f"@{X_USERNAME} ancora nulla, {data[1]}")]
    assert sync(config_path).returncode == 0
    later = mention_with(sandbox, f"@{X_USERNAME} still waiting, {data[2]}")
    assert sync(config_path).returncode == 0

    refused = [a for a in sandbox.state()["actions"] if a["kind"] == "x.reply" and not a["ok"]]
    pointers = [actions_on(sandbox, tweet.id) for tweet in (*first, later)]
    texts = [next(a["body"]["text"] for a in sent if a["kind"] == "x.reply")
             for sent in pointers]
    assert refused == []
    assert len(set(texts)) == 3 and all("@jdoe_iban" in text for text in texts)
    for text in texts:
        squashed = text.replace(" ", "")
        assert "http" not in text and "x.com" not in text
        assert not any(digits in squashed for digits in ("123456", "1234567", "3209876543"))
    with Session(store) as session:
        outcomes = session.exec(select(PrivacyExposure.outcome).join(
            Message, Message.id == PrivacyExposure.message_id).where(  # type: ignore[arg-type]
            Message.author_external_id == "880001")).all()
    assert outcomes == ["done", "done", "done"]
