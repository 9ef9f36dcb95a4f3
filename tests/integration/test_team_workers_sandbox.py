"""Issue 19 point 4: two `socialdesk run` workers on one PostgreSQL database share the jobs,
and when one is killed with SIGKILL the other takes its jobs over: every message stored
once, every answer sent once. Real processes, the sandbox with live traffic.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from socialdesk.clock import system_clock
from socialdesk.config import load_settings
from socialdesk.desk import answers
from socialdesk.sandbox import SandboxServer
from socialdesk.store import lease
from socialdesk.store.db import open_store
from socialdesk.store.models import Conversation, OutboxAction
from tests.integration.test_run_sandbox import FAST_LIMITS, fast_config, start_run, stop
from tests.integration.test_sync_sandbox import sandbox_keys, sync
from tests.support import config_on_store, stored_message_keys, writes_sent_twice

ANSWERS = 20
"""Answers queued before the workers start: the outbox job has work when one is killed."""

pytestmark = pytest.mark.postgres


def queue_answers(engine: Engine, count: int) -> list[int]:
    """Answer the `count` newest X mentions (queued, not sent: the workers send them)."""
    with Session(engine) as session:
        mentions = session.exec(
            select(Conversation.id).where(Conversation.channel == "mention",
                                          col(Conversation.last_inbound_at).is_not(None))
            .order_by(col(Conversation.id)).limit(count)).all()
    assert len(mentions) == count, "the sandbox data set has too few mentions"
    return [answers.reply(engine, conversation or 0, f"Ci pensiamo noi ({n}).", "AB",
                          public_anyway=True, now=system_clock).id or 0
            for n, conversation in enumerate(mentions)]


def states(engine: Engine, ids: list[int]) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(OutboxAction.state, OutboxAction.last_error).where(
            col(OutboxAction.id).in_(ids))).all()
    return [str(state) if state == "sent" else f"{state}: {error}" for state, error in rows]


def wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def holder_pid(engine: Engine, job: str) -> int | None:
    owner = lease.current_holder(engine, f"job:{job}")
    parsed = lease.parse_owner(owner) if owner else None
    return parsed.pid if parsed else None


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_workers_one_killed_store_every_message_once_and_send_every_answer_once(
    tmp_path: Path, store_url: str, runners: list[subprocess.Popen[str]]
) -> None:
    with SandboxServer(seed=3, static=True, messages=400, rate_limits=FAST_LIMITS) as sandbox:
        sandbox.start()
        config = config_on_store(fast_config(sandbox, tmp_path), store_url)
        every_minute(config, tmp_path)
        assert sync(config).returncode == 0
        engine = open_store(load_settings(config).database.effective_url)
        actions = queue_answers(engine, ANSWERS)
        sandbox.generate(30)
        workers = [start_run(config, runners) for _ in range(2)]
        by_pid = {worker.pid: worker for worker in workers}
        assert wait_until(lambda: holder_pid(engine, "outbox") in by_pid, 30)
        assert wait_until(lambda: any(a["ok"] for a in sandbox.state()["actions"]), 30)
        killed = by_pid.pop(holder_pid(engine, "outbox") or 0)
        killed.send_signal(signal.SIGKILL)
        _, killed_log = killed.communicate(timeout=30)
        [survivor] = by_pid.values()
        sandbox.generate(30)  # customers keep writing after the kill

        assert wait_until(lambda: holder_pid(engine, "outbox") == survivor.pid, 30), \
            "the survivor never took the dead worker's outbox job"
        assert wait_until(lambda: states(engine, actions) == ["sent"] * ANSWERS
                          and sandbox_keys(sandbox) <= set(stored_message_keys(store_url)), 45), \
            ([s for s in states(engine, actions) if s != "sent"],
             sandbox_keys(sandbox) - set(stored_message_keys(store_url)))
        returncode, stderr = stop(survivor)
        engine.dispose()
        writes = sandbox.state()["actions"]

    assert killed.returncode == -signal.SIGKILL
    assert returncode == 0, stderr
    assert f"job outbox: taken over from pid {killed.pid} " in stderr
    assert max(stored_message_keys(store_url).values()) == 1, "a message stored twice"
    assert writes_sent_twice(writes) == []
    assert len([w for w in writes if w["ok"] and w["kind"] == "x.reply"]) == ANSWERS
    reports = Counter(re.findall(r"report messages due (.+?): \d+ row", killed_log + stderr))
    assert [due for due, times in reports.items() if times > 1] == [], \
        "a scheduled report written twice for one fire time"


def every_minute(config: Path, folder: Path) -> None:
    """A report due every minute: whichever worker runs, each minute's is written once."""
    text = config.read_text(encoding="utf-8").replace(
        "[[accounts]]", f'[[reports.schedule]]\ncron = "* * * * *"\nkind = "messages"\n'
        f'output = "{folder}/messages-{{date}}.csv"\n\n[[accounts]]', 1)
    config.write_text(text, encoding="utf-8")
