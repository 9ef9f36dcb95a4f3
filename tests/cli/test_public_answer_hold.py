"""`socialdesk reply` waits for the privacy redirect (issue 15 point 1): a public answer on
a mention whose phone number the guard has not redirected is refused on one line, goes
with `--public-anyway`, and that choice is in the audit log with the initials."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlmodel import Session, select

from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.state import X_USERNAME, Tweet, XUser
from socialdesk.store.models import AuditEntry, Conversation, Message, PrivacyExposure

TOKEN = "sandbox-secret-hold-1"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=3, static=True, messages=0) as server:
        server.start()
        yield server


def socialdesk(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialdesk", *args, "--config", str(config_path)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
    )


def mention(sandbox: SandboxServer, text: str) -> None:
    store, now = sandbox.store, sandbox.clock()
    with store.lock:
        user = XUser("770001", "giulia_r", "Giulia Rossi", now - timedelta(days=500), True)
        store.x_users[user.id] = user
        tweet_id = store.ids.snowflake()
        store.add_tweet(Tweet(tweet_id, text, user.id, now - timedelta(minutes=2), tweet_id))


@pytest.fixture
def held(sandbox: SandboxServer, tmp_path: Path) -> tuple[Path, Engine, int]:
    """A desk in suggest mode (the default) that pulled a mention with a phone number:
    its redirect waits for an operator."""
    config_path = write_config(tmp_path / "config.toml", sandbox.base_url)
    mention(sandbox, f"@{X_USERNAME} my order never came, call me at 347 123 4567")
    assert socialdesk(config_path, "sync").returncode == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'socialdesk.db'}")
    with Session(engine) as session:
        conversation_id = session.exec(select(Conversation.id).where(
            Conversation.channel == "mention")).one()
        assert session.exec(select(PrivacyExposure.outcome)).one() == "suggested"
    assert conversation_id is not None
    return config_path, engine, conversation_id


def test_a_public_answer_before_the_redirect_is_refused_then_sent_with_the_flag(
    sandbox: SandboxServer, held: tuple[Path, Engine, int]
) -> None:
    config_path, engine, conversation_id = held

    refused = socialdesk(config_path, "reply", str(conversation_id), "--text",
                         "We are looking into it", "--as", "AB")

    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "PHONE in public and is not redirected yet" in refused.stderr
    assert "--public-anyway" in refused.stderr
    assert [a for a in sandbox.state()["actions"] if a["kind"] == "x.reply"] == []

    anyway = socialdesk(config_path, "reply", str(conversation_id), "--text",
                        "We are looking into it", "--as", "AB", "--public-anyway")

    assert anyway.returncode == 0, anyway.stderr
    assert ": sent (x reply)" in anyway.stdout
    with Session(engine) as session:
        audit = session.exec(select(AuditEntry).where(
            AuditEntry.action == "reply.public_anyway")).one()
        reply = session.exec(select(Message).where(Message.direction == "outbound")).one()
    assert (audit.actor, audit.target_id, audit.detail["types"]) == (
        "AB", str(conversation_id), ["PHONE"])
    assert reply.text == "We are looking into it"
    engine.dispose()


def test_once_redirected_a_public_answer_goes_without_the_flag(
    held: tuple[Path, Engine, int]
) -> None:
    config_path, engine, conversation_id = held
    with Session(engine) as session:
        exposure = session.exec(select(PrivacyExposure)).one()
        exposure.outcome = "dismissed"  # type: ignore[assignment]
        session.add(exposure)
        session.commit()

    replied = socialdesk(config_path, "reply", str(conversation_id), "--text", "Done!",
                         "--as", "AB")

    assert replied.returncode == 0, replied.stderr
    with Session(engine) as session:
        assert session.exec(select(AuditEntry).where(
            AuditEntry.action == "reply.public_anyway")).first() is None
    engine.dispose()
