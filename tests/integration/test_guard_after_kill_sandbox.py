"""Issue 14's done-when for the privacy guard: `kill -9` a sync at any moment, then one
clean `sync`, and every public message with personal data is decided, in `suggest` and in
`auto` mode, and no reply, private message or hide reached the platform twice.

Real processes against a live sandbox: the sync is killed mid-pull (pages stored, guard
not run), mid-guard (exposures recorded) and mid-send (outbox actions queued or in
flight), each time at the moment the store shows that progress.
"""

from __future__ import annotations

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
from tests.support import writes_sent_twice

TOKEN = "sandbox-secret-guard-kill"

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
    """The sandbox config, guard in `mode`; an action a kill left `sending` counts as
    interrupted after a second (the default two minutes would outlast the test)."""
    path = write_config(folder / "config.toml", sandbox.base_url)
    path.write_text(path.read_text() + f'\n[privacy]\nmode = "{mode}"\n'
                    "\n[outbox]\nstale_sending_seconds = 1.0\nretry_base_seconds = 0.2\n")
    return path


def start_sync(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "sync", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
    )


def count(engine: Engine, query: str) -> int:
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(query)).scalar() or 0)
    except Exception:  # noqa: BLE001  (the schema may not exist yet)
        return 0


def kill_at(engine: Engine, config: Path, moment: Moment) -> bool:
    """Run a sync and `kill -9` it once `moment` is reached; False if it finished first."""
    process = start_sync(config)
    query, threshold = moment
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        if count(engine, query) >= threshold:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    process.wait(30)
    return process.returncode == -signal.SIGKILL


def undecided(engine: Engine) -> list[int]:
    """Public customer messages with personal data the guard has not decided."""
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text(
            "SELECT m.id FROM message m WHERE m.direction = 'inbound' "
            "AND m.visibility = 'public' AND m.has_pii = 1 AND (m.privacy_state IS NOT "
            "'decided' OR m.id NOT IN (SELECT message_id FROM privacy_exposure))"))]


def unfinished(engine: Engine) -> list[int]:
    """Exposures still `queued` that are not waiting on an `unknown` send (a human's)."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT id, plan FROM privacy_exposure WHERE outcome = 'queued'")).all()
    return [exposure for exposure, plan in rows if '"unknown"' not in plan]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["suggest", "auto"])
def test_kill_9_at_any_moment_then_one_clean_sync_leaves_nothing_undecided(
    sandbox: SandboxServer, tmp_path: Path, mode: str
) -> None:
    config = config_for(sandbox, tmp_path, mode)
    engine = create_engine(f"sqlite:///{tmp_path / 'socialdesk.db'}")
    killed = [kill_at(engine, config, moment) for moment in KILLS[mode]]
    assert sum(killed) >= 3, f"too few syncs were killed mid-way: {killed}"

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
