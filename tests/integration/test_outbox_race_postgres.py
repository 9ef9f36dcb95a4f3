"""Two outbox dispatchers racing on one PostgreSQL database (two `run` workers on two hosts,
or a worker and an operator's send): each action is claimed by one of them and reaches the
platform once (`FOR UPDATE SKIP LOCKED`, then a compare-and-set of the state)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from socialdesk.clock import system_clock
from socialdesk.config import load_settings
from socialdesk.desk import outbox
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.store.db import open_store
from socialdesk.sync import sync_accounts
from tests.integration.test_team_workers_sandbox import queue_answers, states
from tests.support import config_on_store, writes_sent_twice

ANSWERS = 30

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_dispatchers_racing_send_each_action_once(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SANDBOX_TOKEN_ENV, "sandbox-secret-race")
    with SandboxServer(seed=3, static=True, messages=400) as sandbox:
        sandbox.start()
        settings = load_settings(config_on_store(
            write_config(tmp_path / "config.toml", sandbox.base_url), store_url))
        first, second = (open_store(settings.database.effective_url) for _ in range(2))
        assert all(result.ok for result in sync_accounts(settings, first, clock=system_clock))
        actions = queue_answers(first, ANSWERS)
        start = threading.Barrier(2)
        reports: list[outbox.DispatchReport] = []

        def dispatcher(engine: object) -> None:
            start.wait()
            reports.append(outbox.dispatch_due(engine, settings,  # type: ignore[arg-type]
                                               now=system_clock, limit=ANSWERS))

        threads = [threading.Thread(target=dispatcher, args=(engine,))
                   for engine in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        final = states(first, actions)
        writes = sandbox.state()["actions"]
        for engine in (first, second):
            engine.dispose()

    processed = [[action.id for action in report.actions] for report in reports]
    assert len(processed) == 2 and not set(processed[0]) & set(processed[1]), \
        "an action processed by both dispatchers"
    assert sorted(processed[0] + processed[1]) == sorted(actions)
    assert final == ["sent"] * ANSWERS
    assert writes_sent_twice(writes) == []
    assert len([w for w in writes if w["ok"] and w["kind"] == "x.reply"]) == ANSWERS
