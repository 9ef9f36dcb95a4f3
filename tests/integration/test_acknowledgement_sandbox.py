"""The automatic acknowledgement against the sandbox: private only, once, recent only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from socialdesk.clock import system_clock
from socialdesk.config import Settings, load_settings
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.service.acknowledgement import ACK_ACTOR, guess_language
from socialdesk.store.models import Conversation, OutboxAction
from socialdesk.sync import sync_accounts

ACK_SECTION = "\n[acknowledgement]\nenabled = true\nmax_age_minutes = 30\n"
PRIVATE_KINDS = {"x.dm", "facebook.message"}


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=21, static=True, messages=60) as server:
        server.start()
        yield server


@pytest.fixture
def settings(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv(SANDBOX_TOKEN_ENV, "sandbox")
    path = write_config(tmp_path / "config.toml", sandbox.base_url)
    path.write_text(path.read_text(encoding="utf-8") + ACK_SECTION, encoding="utf-8")
    return load_settings(path)


def acknowledgements(sandbox: SandboxServer) -> list[dict[str, object]]:
    return [a for a in sandbox.state()["actions"] if a["ok"]]


def sync_ok(settings: Settings, engine: Engine) -> None:
    assert all(result.ok for result in sync_accounts(settings, engine, clock=system_clock))


def new_private_conversations(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return list(session.exec(select(Conversation.id).where(
            Conversation.visibility == "private", Conversation.status == "new",
            col(Conversation.sla_started_at) == col(Conversation.opened_at))).all())


def test_the_first_sync_writes_to_no_customer_of_the_past(
    sandbox: SandboxServer, settings: Settings, engine: Engine
) -> None:
    sync_ok(settings, engine)
    assert new_private_conversations(engine), "the sandbox history has private conversations"
    assert acknowledgements(sandbox) == []


def test_each_new_private_conversation_gets_one_acknowledgement_and_public_ones_none(
    sandbox: SandboxServer, settings: Settings, engine: Engine
) -> None:
    sync_ok(settings, engine)
    before = set(new_private_conversations(engine))
    sandbox.generate(40)
    sync_ok(settings, engine)
    opened = set(new_private_conversations(engine)) - before
    assert opened, ("40 new customer items open some private conversations, still `new` "
                    "after their acknowledgement: it is not an answer")
    sent = acknowledgements(sandbox)
    assert {a["kind"] for a in sent} <= PRIVATE_KINDS
    assert len(sent) == len(opened)
    texts = [json.dumps(a["body"], ensure_ascii=False) for a in sent]
    assert all("entro" in text or "answer by" in text for text in texts)
    messenger = [a["body"] for a in sent if a["kind"] == "facebook.message"]
    assert all(body.get("messaging_type") == "RESPONSE" for body in messenger)  # type: ignore[union-attr]
    with Session(engine) as session:
        queued = session.exec(select(OutboxAction).where(
            OutboxAction.requested_by == ACK_ACTOR)).all()
    assert sorted(a.conversation_id for a in queued) == sorted(opened)
    assert all(a.state == "sent" for a in queued)
    sandbox.generate(10)
    sync_ok(settings, engine)
    newer = set(new_private_conversations(engine)) - before - opened
    assert len(acknowledgements(sandbox)) == len(opened) + len(newer), \
        "a conversation already acknowledged never gets a second one"


@pytest.mark.parametrize(("text", "language"), [
    ("Ciao, il mio ordine non è ancora arrivato", "it"),
    ("Hi, my order has not arrived yet, can you help?", "en"),
    ("12345 ???", "it"),
])
def test_the_customers_language_picks_the_template(text: str, language: str) -> None:
    assert guess_language(text, default="it") == language
