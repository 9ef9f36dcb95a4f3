"""Issue 14 point 9 as cron meets it: a `socialdesk sync` killed with SIGKILL, then the next.

`timeout -s KILL 4 socialdesk sync; socialdesk sync` used to skip the account the killed
sync held for the lease's 120 s and exit 0 with half the messages: where nothing reaps the
killed process (its parent died with it, and the container's init does not reap), it
stays a zombie whose pid still answers. Real processes, the sandbox, SQLite and PostgreSQL.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from socialdesk.sandbox import SandboxServer, write_config
from socialdesk.store import lease
from socialdesk.store.db import create_store_engine
from tests.integration.test_sync_sandbox import _env, sandbox_keys, sync
from tests.support import config_on_store, stored_message_keys


@pytest.fixture
def busy_sandbox() -> Iterator[SandboxServer]:
    """Enough history that a first sync takes seconds, so it can be caught mid-walk."""
    with SandboxServer(seed=3, static=True, messages=1500) as server:
        server.start()
        yield server


@pytest.fixture
def config_path(busy_sandbox: SandboxServer, tmp_path: Path, store_url: str) -> Path:
    """The sandbox config with its database on the parametrised store."""
    return config_on_store(write_config(tmp_path / "config.toml", busy_sandbox.base_url), store_url)


def start_sync(config_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "sync", "--config", str(config_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
    )


def wait_for_some_messages(store_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while not stored_message_keys(store_url):
        assert time.monotonic() < deadline and psutil.Process(process.pid).is_running(), \
            "the sync stored nothing"
        time.sleep(0.05)


def until_zombie(pid: int) -> None:
    """Wait without reaping (Popen.poll would reap) until the killed sync is a zombie."""
    deadline = time.monotonic() + 30
    while psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the sync outlived SIGKILL"
        time.sleep(0.02)


def test_the_sync_after_a_killed_one_takes_over_and_stores_everything(
    busy_sandbox: SandboxServer, config_path: Path, store_url: str
) -> None:
    killed = start_sync(config_path)
    try:
        wait_for_some_messages(store_url, killed)
        killed.send_signal(signal.SIGKILL)
        until_zombie(killed.pid)
        partial = sum(stored_message_keys(store_url).values())
        rerun = sync(config_path)
    finally:
        killed.wait(30)
    assert killed.returncode == -signal.SIGKILL, "the sync finished before the kill"
    assert rerun.returncode == 0, rerun.stderr
    assert "deferred" not in rerun.stderr and "skipped" not in rerun.stderr
    stored = stored_message_keys(store_url)
    assert max(stored.values()) == 1
    assert set(stored) == sandbox_keys(busy_sandbox)
    assert 0 < partial < len(stored)


def test_an_account_held_by_a_live_sync_is_deferred_not_silently_skipped(
    tmp_path: Path, store_url: str
) -> None:
    """A holder waiting on a slow platform is alive: the second sync must not take over,
    nor exit 0 with half the messages. It says who holds the account and exits 75; once
    the holder is gone, the next sync stores everything."""
    with SandboxServer(seed=5, static=True, messages=80, timeout_seconds=60) as server:
        server.start()
        config = config_on_store(write_config(tmp_path / "config.toml", server.base_url), store_url)
        server.inject({"target": "x.mentions", "kind": "timeout", "count": 1})
        holder = start_sync(config)
        try:
            wait_for_lease(store_url, "account:sandbox-x", holder)
            blocked = sync(config)
            holder.send_signal(signal.SIGKILL)
        finally:
            holder.wait(30)
        assert blocked.returncode == 75, blocked.stderr
        assert (f"sandbox-x: deferred: another socialdesk process (pid {holder.pid} on "
                in blocked.stderr), blocked.stderr
        assert any(platform == "facebook" for platform, _ in stored_message_keys(store_url))
        final = sync(config)
        assert final.returncode == 0, final.stderr
        stored = stored_message_keys(store_url)
        assert max(stored.values()) == 1
        assert set(stored) == sandbox_keys(server)


def wait_for_lease(store_url: str, name: str, process: subprocess.Popen[bytes]) -> None:
    engine = create_store_engine(store_url)
    deadline = time.monotonic() + 60
    try:
        while not _held(engine, name):
            assert time.monotonic() < deadline and process.poll() is None, "never held"
            time.sleep(0.05)
    finally:
        engine.dispose()


def _held(engine: Engine, name: str) -> bool:
    try:
        return lease.current_holder(engine, name) is not None
    except DBAPIError:  # the first sync has not made the schema yet
        return False
