"""Found by the soak (benchmarks/soak.py): items written in the second of the last poll.

Graph times have whole seconds. A poll that stores an item written at 10:00:00.2 and a
customer who writes again at 10:00:00.7 used to lose the second item for good, because the
next poll asked only for items after the watermark second.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from socialdesk.clock import system_clock
from socialdesk.config import load_settings
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.store.db import open_store
from socialdesk.store.models import Message
from socialdesk.sync import sync_accounts

FROZEN = datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC)


def test_items_written_in_the_same_second_as_the_last_poll_are_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SANDBOX_TOKEN_ENV, os.environ.get(SANDBOX_TOKEN_ENV, "sandbox"))
    with SandboxServer(seed=5, static=True, messages=10, clock=lambda: FROZEN) as server:
        server.start()
        settings = load_settings(write_config(tmp_path / "config.toml", server.base_url))
        engine = open_store(settings.database.effective_url)
        server.generate(6)
        assert all(result.ok for result in sync_accounts(settings, engine, clock=system_clock))
        later_in_that_second = server.generate(12)
        assert any(i["platform"] == "facebook" for i in later_in_that_second)
        assert all(result.ok for result in sync_accounts(settings, engine, clock=system_clock))
        with Session(engine) as session:
            stored = {(m.platform, m.external_id) for m in session.exec(select(Message))}
        engine.dispose()
    missing = [i["channel"] for i in later_in_that_second
               if (i["platform"], i["id"]) not in stored]
    assert missing == []
