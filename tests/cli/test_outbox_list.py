"""`socialdesk outbox` as an operator reads it: which conversation, what was said (one line,
personal data masked, escape sequences harmless), and `--json` for scripts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from connectors.base import ActionKind, Channel, Direction, InboundItem
from socialdesk.store.models import Conversation, OutboxAction, OutboxState
from tests.support import run_cli, x_desk_holding

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PREVIEW = "Ciao, la richiamiamo al +39 *** *** **67␛]0;title␇ oggi. A …"
"""Sixty characters on one line: the phone masked, ESC and BEL shown, the newline a space."""
ANSWER = ("Ciao, la richiamiamo al +39 347 123 4567\x1b]0;title\x07 oggi.\n"
          "A presto, il team")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A SQLite desk with one conversation and one failed answer to it."""
    item = InboundItem(platform="x", external_id="1", channel=Channel.DM,
                       direction=Direction.INBOUND, thread_key="t", text="mi chiamate?",
                       created_at=NOW, author_id="c1", author_handle="customer")
    path, engine, account = x_desk_holding(tmp_path, "dms", [item], NOW)
    with Session(engine) as session:
        conversation = session.exec(select(Conversation)).one()
        session.add(OutboxAction(
            idempotency_key="k1", account_id=account.id or 0, platform="x",
            kind=ActionKind.DIRECT_MESSAGE, state=OutboxState.FAILED,
            conversation_id=conversation.id, text=ANSWER, requested_by="AB", attempts=3,
            last_error="403\tForbidden", created_at=NOW + timedelta(minutes=5),
            updated_at=NOW + timedelta(minutes=5)))
        session.commit()
    engine.dispose()
    return path


def test_the_list_shows_the_conversation_and_a_masked_one_line_preview(config: Path) -> None:
    listed = run_cli("outbox", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    header, row, *rest = listed.stdout.split("\n")
    assert rest == [""]
    cells = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    assert cells["conversation_id"] == "1" and cells["state"] == "failed"
    assert cells["created_at"] == "2026-12-01T12:05:00Z"
    preview = cells["preview"]
    assert preview == PREVIEW and len(preview) == 60
    assert "347 123" not in listed.stdout and "\x1b" not in listed.stdout
    assert cells["last_error"] == "403 Forbidden"


def test_json_is_an_array_with_numbers_for_ids_and_times_with_their_offset(
    config: Path,
) -> None:
    listed = run_cli("outbox", "--json", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    (action,) = json.loads(listed.stdout)
    assert action["id"] == 1 and action["conversation_id"] == 1 and action["attempts"] == 3
    assert datetime.fromisoformat(action["created_at"]) == NOW + timedelta(minutes=5)
    assert action["created_at"].endswith("+00:00")
    assert action["kind"] == "direct_message" and action["by"] == "AB"
    assert action["preview"] == PREVIEW
    assert action["last_error"] == "403\tForbidden"
    tsv = run_cli("outbox", "--config", str(config)).stdout.split("\n")[0].split("\t")
    assert list(action) == tsv
