"""The demo's desk: new simulated customers appear while the operator works."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from socialdesk.clock import system_clock
from socialdesk.config import settings_from_mapping
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, sandbox_config_text
from socialdesk.store.db import open_store
from socialdesk.sync import sync_accounts
from socialdesk.tui.app import make_app
from socialdesk.tui.launch import desk_from_settings
from tests.tui.desk_fixture import settle
from tests.tui.screen_text import filter_bar


async def test_background_sync_brings_new_customers_into_the_open_queue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SANDBOX_TOKEN_ENV, "demo")
    with SandboxServer(seed=3, static=True, messages=6) as sandbox:
        base_url = sandbox.start()
        database_url = f"sqlite:///{tmp_path / 'demo.db'}"
        settings = settings_from_mapping(
            tomllib.loads(sandbox_config_text(base_url, database_url)), source="test")
        engine = open_store(database_url)
        sync_accounts(settings, engine, clock=system_clock)
        desk = desk_from_settings(settings, engine, initials="DM",
                                  background_sync=lambda: sync_accounts(settings, engine,
                                                                        clock=system_clock))
        desk.poll_seconds = 0
        desk.background_seconds = 3600  # the test runs the sync itself
        app = make_app(desk)
        async with app.run_test(size=(120, 30)) as pilot:
            await settle(pilot)
            before = int(filter_bar(app).split()[0].rstrip("+"))
            sandbox.generate(4)
            app.run_background_sync()
            await settle(pilot)
            after = int(filter_bar(app).split()[0].rstrip("+"))
            assert after > before
        engine.dispose()
