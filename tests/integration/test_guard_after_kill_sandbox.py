"""Issue 14's done-when for the privacy guard: `kill -9` of `sync` or `run` at any moment,
then one clean `sync`, and every public message with personal data is decided, in
`suggest` and in `auto` mode, and no reply, private message or hide reached the platform
twice.

Real processes against a live sandbox: the process is killed mid-pull (pages stored,
guard not run), mid-guard (exposures recorded) and mid-send (outbox actions queued or in
flight), each time at the moment the store shows that progress.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.state import X_USER_ID
from tests.support import writes_sent_twice

STALE_SENDING_SECONDS = 1.0
"""An action a kill left `sending` counts as interrupted after this long (the default,
two minutes, would outlast the test); until then it may be in flight in another process,
and the guard leaves its exposure `queued` rather than guess."""
TOKEN = f"{X_USER_ID}-sandbox-secret-guard-kill"
"""Shaped like an OAuth 1.0a access token of the sandbox's X account (`run` checks it)."""

Moment = tuple[str, int]
"""Kill once this SQL count reaches this number."""

MESSAGES = "SELECT count(*) FROM message"
EXPOSURES = "SELECT count(*) FROM privacy_exposure"
ACTIONS = "SELECT count(*) FROM outbox_action"
SENDING = "SELECT count(*) FROM outbox_action WHERE state = 'sending'"
KILLS: dict[str, list[Moment]] = {
    "suggest": [(MESSAGES, 1), (MESSAGES, 200), (EXPOSURES, 3), (EXPOSURES, 9)],
    "auto": [(MESSAGES, 1), (EXPOSURES, 2), (ACTIONS, 4), (ACTIONS, 11), (ACTIONS, 20),
             (SENDING, 1)],
}


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=3, static=True, messages=300) as server:
        server.start()
        yield server


def config_for(sandbox: SandboxServer, folder: Path, mode: str) -> Path:
    """The sandbox config, guard in `mode`, sends counted stale quickly."""
    path = write_config(folder / "config.toml", sandbox.base_url)
    path.write_text(path.read_text() + f'\n[privacy]\nmode = "{mode}"\n\n[outbox]\n'
                    f"stale_sending_seconds = {STALE_SENDING_SECONDS}\n"
                    "retry_base_seconds = 0.2\n")
    return path


def start(command: str, config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "socialdesk", command, "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
    )


def count(engine: Engine, query: str) -> int:
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(query)).scalar() or 0)
    except Exception:  # noqa: BLE001  (the schema may not exist yet)
        return 0


def kill_at(engine: Engine, command: str, config: Path, moment: Moment) -> bool:
    """Start `socialdesk COMMAND` and `kill -9` it once `moment` is reached; whether it
    was (a sync may finish first; a `run` that reaches nothing in 30 s is killed idle)."""
    process = start(command, config)
    query, threshold = moment
    reached = False
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        if count(engine, query) >= threshold:
            reached = True
            break
        time.sleep(0.01)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(30)
    return reached and process.returncode == -signal.SIGKILL


def undecided(engine: Engine) -> list[int]:
    """Public customer messages with personal data the guard has not decided."""
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text(
            "SELECT m.id FROM message m WHERE m.direction = 'inbound' "
            "AND m.visibility = 'public' AND m.has_pii = 1 AND (m.privacy_state IS NOT "
            "'decided' OR m.id NOT IN (SELECT message_id FROM privacy_exposure))"))]


def unfinished(engine: Engine) -> list[tuple[int, list[str | None]]]:
    """Exposures still `queued` that are not waiting on an `unknown` send (a human's),
    with their steps' states."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT id, plan FROM privacy_exposure WHERE outcome = 'queued'")).all()
    steps = [(exposure, [step.get("state") for step in json.loads(plan)])
             for exposure, plan in rows]
    return [(exposure, states) for exposure, states in steps if "unknown" not in states]


@pytest.mark.slow
@pytest.mark.parametrize(("command", "mode"),
                         [("sync", "suggest"), ("sync", "auto"), ("run", "auto")])
def test_kill_9_at_any_moment_then_one_clean_sync_leaves_nothing_undecided(
    sandbox: SandboxServer, tmp_path: Path, command: str, mode: str
) -> None:
    config = config_for(sandbox, tmp_path, mode)
    engine = create_engine(f"sqlite:///{tmp_path / 'socialdesk.db'}")
    killed = [kill_at(engine, command, config, moment) for moment in KILLS[mode]]
    assert sum(killed) >= 3, f"too few syncs were killed mid-way: {killed}"
    time.sleep(STALE_SENDING_SECONDS + 0.5)  # as cron's next minute would

    clean = subprocess.run(
        [sys.executable, "-m", "socialdesk", "sync", "--config", str(config)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
    )

    assert clean.returncode == 0, clean.stderr
    assert undecided(engine) == []
    assert count(engine, EXPOSURES) >= 10
    actions = sandbox.state()["actions"]
    if mode == "suggest":
        assert actions == [] and count(engine, ACTIONS) == 0
    else:
        assert unfinished(engine) == []
        assert actions
    assert writes_sent_twice(actions) == []
    engine.dispose()
