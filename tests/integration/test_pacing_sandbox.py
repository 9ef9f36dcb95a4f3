"""Issue 14 point 8 against the sandbox's emulated limits: `run` paces itself by the usage
headers and meets no 429; `sync` stops a walk before the refusal and exits 75, saying when
the stream resumes. Real processes; SQLite and PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from socialdesk.sandbox import SandboxServer, write_config
from socialdesk.sandbox.wire import Request, Response
from socialdesk.service import pacing
from socialdesk.store.db import create_store_engine
from socialdesk.store.models import SyncCursor
from tests.integration.test_run_sandbox import fast_config, start_run, stop
from tests.integration.test_sync_sandbox import RESET_AT, sandbox_keys, sync
from tests.support import config_on_store, stored_message_keys

SMALL_BUDGET = {"x.mentions": 4, "x.dm_events": 6, "facebook": 12}
"""Per 15 minutes for X, per hour for Graph: polling every 2 s spends each in seconds."""


class Answers:
    """Every status the sandbox answered, by endpoint path: a tap on the sandbox itself."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.counts: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()
        self._dispatch = sandbox.dispatch
        sandbox.dispatch = self._count  # type: ignore[method-assign]

    def _count(self, request: Request) -> Response:
        response = self._dispatch(request)
        with self._lock:
            self.counts[(request.path, response.status)] += 1
        return response

    def refused(self) -> int:
        """429s, and Graph's throttling answers (code 32 comes as HTTP 400 or 403)."""
        return sum(n for (_, status), n in self.counts.items() if status in (400, 403, 429))

    def calls(self, fragment: str) -> int:
        return sum(n for (path, _), n in self.counts.items() if fragment in path)


@pytest.fixture
def limited_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=11, static=True, messages=40, rate_limits=SMALL_BUDGET) as server:
        server.start()
        yield server


def stored_budgets(store_url: str) -> dict[str, str | None]:
    engine = create_store_engine(store_url)
    with Session(engine) as session:
        rows = session.exec(select(SyncCursor)).all()
    engine.dispose()
    return {row.stream: row.rate_budget for row in rows}


def test_run_paces_itself_and_meets_no_refusal_while_syncing_everything(
    limited_sandbox: SandboxServer, tmp_path: Path, store_url: str,
    runners: list[subprocess.Popen[str]],
) -> None:
    answers = Answers(limited_sandbox)
    config = config_on_store(fast_config(limited_sandbox, tmp_path), store_url)
    process = start_run(config, runners)
    time.sleep(25)
    returncode, stderr = stop(process)
    assert returncode == 0, stderr
    assert answers.refused() == 0, (answers.counts, stderr)
    assert set(stored_message_keys(store_url)) == sandbox_keys(limited_sandbox)
    assert max(stored_message_keys(store_url).values()) == 1
    assert answers.calls("/mentions") <= SMALL_BUDGET["x.mentions"]
    assert re.search(rf"sandbox-x/mentions: .* next run {RESET_AT} \(paced: 3 of 4 left until "
                     rf"{RESET_AT}\)", stderr), stderr  # the desk's clock (Rome)
    assert re.search(r"sandbox-facebook/\w+: .*\(paced: \d+ % used\)", stderr), stderr
    budgets = {stream: pacing.from_text(text) for stream, text in
               stored_budgets(store_url).items()}
    mentions = budgets["mentions"]
    assert mentions is not None and (mentions.limit, mentions.remaining) == (4, 3)
    feed = budgets["feed"]
    assert feed is not None and feed.percent


def test_sync_stops_a_walk_before_the_refusal_and_exits_75(
    tmp_path: Path, store_url: str
) -> None:
    """One DM lookup per window and DMs over several pages: the first page says nothing is
    left, so the walk stops there (no 429), keeps what it read and says when it resumes;
    the next sync skips the stream until then."""
    with SandboxServer(seed=3, static=True, messages=600,
                       rate_limits={"x.dm_events": 1}) as server:
        server.start()
        answers = Answers(server)
        config = config_on_store(write_config(tmp_path / "config.toml", server.base_url), store_url)
        first = sync(config)
        assert first.returncode == 75, first.stderr
        resumes = re.search(r"^sandbox-x: mentions \+\d+, dms \+(\d+) \(deferred: rate-limit "
                            rf"budget spent; resumes at {RESET_AT}\)$",
                            first.stderr, re.MULTILINE)
        assert resumes and int(resumes[1]) > 0, first.stderr
        assert answers.calls("/dm_events") == 1 and answers.refused() == 0, answers.counts
        again = sync(config)
        assert again.returncode == 75, again.stderr
        skipped = re.search(rf"dms \+0 \(deferred: rate limited, skipped; resumes at {RESET_AT}\)",
                            again.stderr)
        assert skipped and skipped[1] == resumes[2], again.stderr
        assert answers.calls("/dm_events") == 1 and answers.refused() == 0, answers.counts
        dms = pacing.from_text(stored_budgets(store_url)["dms"])
        assert dms is not None and (dms.limit, dms.remaining) == (1, 0)
