"""X walks cut short resume where they stopped: real processes, real tweepy, the sandbox.

A first sync of a long DM history stops at its page cap or a rate limit; later syncs (as
cron runs them) and `socialdesk run` by itself go on from there once the short emulated
window (`rate_window`) resets, until every DM event is stored. A page token that repeats
stops the walk with an error and keeps the old watermark, so nothing is skipped.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from connectors.x_walk import WalkCursor
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.state import X_USER_ID
from socialdesk.store.models import Account, SyncCursor
from tests.integration.test_run_sandbox import FAST_LIMITS, fast_config, start_run, stop
from tests.support import config_on_store, stored_message_keys

TOKEN = f"{X_USER_ID}-sandbox-secret-0f9e8d7c"
LONG_HISTORY = 3000
"""Customer messages of the issue's measurement: more DM events than one capped walk reads."""


def x_keys(server: SandboxServer, channel: str) -> set[tuple[str, str]]:
    """Every X message of `channel` the sandbox holds (join events are not messages)."""
    return {
        ("x", item["id"]) for item in server.state()["items"]
        if item["platform"] == "x" and item["channel"] == channel
        and item.get("event_type", "MessageCreate") == "MessageCreate"
    }


def stored_x(store_url: str, channel: str, server: SandboxServer) -> set[tuple[str, str]]:
    """The sandbox's messages of `channel` that the store holds (none before the first sync)."""
    return set(stored_message_keys(store_url)) & x_keys(server, channel)


def x_cursor(store_url: str, stream: str) -> str | None:
    engine = create_engine(store_url)
    with Session(engine) as session:
        account = session.exec(select(Account).where(Account.name == "sandbox-x")).first()
        row = account and session.exec(select(SyncCursor).where(
            SyncCursor.account_id == account.id, SyncCursor.stream == stream)).first()
    engine.dispose()
    return row.cursor if row else None


def sync_x(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialdesk", "sync", "--config", str(config),
         "--account", "sandbox-x"],
        capture_output=True, text=True, timeout=180, env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
    )


def test_a_capped_dm_walk_resumes_on_the_next_sync(tmp_path: Path, store_url: str) -> None:
    """The issue's figure: 3,000 messages, the first sync stores 1,000 DM events, the next
    sync must store the rest (it added 0 before)."""
    with SandboxServer(seed=0, static=True, messages=LONG_HISTORY) as server:
        config = config_on_store(write_config(tmp_path / "config.toml", server.base_url), store_url)
        dms = x_keys(server, "dm")
        assert len(dms) > 1000, "the history must outgrow one capped walk"
        first = sync_x(config)
        assert len(stored_x(store_url, "dm", server)) == 1000, first.stderr
        assert first.returncode != 1, first.stderr
        second = sync_x(config)
        assert stored_x(store_url, "dm", server) == dms, second.stderr
        assert max(stored_message_keys(store_url).values()) == 1
        assert WalkCursor.parse(x_cursor(store_url, "dms")).watermark == max(
            (i for _, i in dms), key=int)


def test_repeated_syncs_across_rate_limit_windows_store_every_dm_event(
    tmp_path: Path, store_url: str
) -> None:
    """4 DM pages per 3-second window: the backfill needs several windows and several runs.

    A slow machine may spread 4 pages over more than one window, so a 429 in the middle of
    the walk is also injected once the first pages are stored: the test never depends on
    timing to meet one.
    """
    with SandboxServer(seed=0, static=True, messages=LONG_HISTORY, rate_window=3,
                       rate_limits={"x.dm_events": 4}) as server:
        config = config_on_store(write_config(tmp_path / "config.toml", server.base_url), store_url)
        dms, outputs = x_keys(server, "dm"), []
        deadline = time.monotonic() + 180
        while stored_x(store_url, "dm", server) != dms and time.monotonic() < deadline:
            outputs.append(sync_x(config).stderr)
            if len(outputs) == 1:
                server.inject({"target": "x.dm_events", "kind": "rate_limit"})
            time.sleep(1)  # cron's next minute, shortened like the window
        assert stored_x(store_url, "dm", server) == dms, outputs[-1]
        assert max(stored_message_keys(store_url).values()) == 1
        assert any(re.search(r"dms \+\d+ \(deferred: rate limited; resumes at", out)
                   for out in outputs), "the walk must have met the rate limit mid-way"
        assert len(outputs) >= 3


def test_run_backfills_every_dm_event_across_rate_limit_windows_by_itself(
    tmp_path: Path, store_url: str, runners: list[subprocess.Popen[str]]
) -> None:
    limits = {**FAST_LIMITS, "x.dm_events": 4}
    with SandboxServer(seed=0, static=True, messages=LONG_HISTORY, rate_window=3,
                       rate_limits=limits) as server:
        config = config_on_store(fast_config(server, tmp_path), store_url)
        dms = x_keys(server, "dm")
        process = start_run(config, runners)
        deadline = time.monotonic() + 180
        injected = False
        while time.monotonic() < deadline and process.poll() is None:
            stored = stored_x(store_url, "dm", server)
            if stored == dms:
                break
            if stored and not injected:  # a 429 mid-walk, whatever the machine's speed
                server.inject({"target": "x.dm_events", "kind": "rate_limit"})
                injected = True
            time.sleep(0.5)
        complete = stored_x(store_url, "dm", server) == dms
        returncode, stderr = stop(process)
        assert complete, stderr[-3000:]
        assert returncode == 0, stderr[-3000:]
        assert re.search(r"sandbox-x/dms: .*rate limited until", stderr), \
            "the backfill must have waited for a reset without a restart"
        assert max(stored_message_keys(store_url).values()) == 1


@pytest.mark.parametrize(("target", "channel", "stream"), [
    ("x.mentions", "mention", "mentions"),
    ("x.dm_events", "dm", "dms"),
])
def test_a_repeating_page_token_fails_the_stream_and_loses_nothing(
    tmp_path: Path, store_url: str, target: str, channel: str, stream: str
) -> None:
    with SandboxServer(seed=3, static=True, messages=1500) as server:
        config = config_on_store(write_config(tmp_path / "config.toml", server.base_url), store_url)
        expected = x_keys(server, channel)
        server.inject({"target": target, "kind": "repeat_token", "count": 1})
        looped = sync_x(config)
        assert looped.returncode == 1, looped.stderr
        assert f"{stream}: X " in looped.stderr and "repeated" in looped.stderr
        assert "without moving the watermark" in looped.stderr
        partial = stored_x(store_url, channel, server)
        assert 0 < len(partial) < len(expected)
        assert WalkCursor.parse(x_cursor(store_url, stream)) == WalkCursor(None), \
            "the watermark stays where it was: none yet"
        again = sync_x(config)
        assert again.returncode == 0, again.stderr
        assert stored_x(store_url, channel, server) == expected
        assert max(stored_message_keys(store_url).values()) == 1


def test_a_dm_walk_killed_mid_way_resumes_where_it_stopped(tmp_path: Path, store_url: str) -> None:
    """kill -9 after some pages: the next sync asks for the stored page token, not page 1."""
    with SandboxServer(seed=0, static=True, messages=LONG_HISTORY) as server:
        config = config_on_store(write_config(tmp_path / "config.toml", server.base_url), store_url)
        dms = x_keys(server, "dm")
        process = subprocess.Popen(
            [sys.executable, "-m", "socialdesk", "sync", "--config", str(config),
             "--account", "sandbox-x"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            cursor = _quiet(x_cursor, store_url, "dms")
            if cursor and '"next_token":"' in cursor:  # a walk under way
                break
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert process.returncode == -signal.SIGKILL, "the sync finished before the kill"
        resumed_from = x_cursor(store_url, "dms")
        assert resumed_from and '"next_token":"' in resumed_from
        for _ in range(2):
            rerun = sync_x(config)
            assert rerun.returncode != 1, rerun.stderr
        assert stored_x(store_url, "dm", server) == dms
        assert max(stored_message_keys(store_url).values()) == 1


def _quiet(read: object, *args: object) -> str | None:
    try:
        return read(*args)  # type: ignore[operator, no-any-return]
    except Exception:  # noqa: BLE001  (the schema may not exist yet)
        return None


def test_a_dm_pull_refused_for_the_app_permission_says_which_permission(
    tmp_path: Path,
) -> None:
    with SandboxServer(seed=3, static=True, messages=40, x_access_level="read-write") as server:
        config = write_config(tmp_path / "config.toml", server.base_url)
        result = sync_x(config)
        doctor = subprocess.run(
            [sys.executable, "-m", "socialdesk", "doctor", "--config", str(config)],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
        )
    assert result.returncode == 1
    failure = next(line for line in result.stderr.splitlines() if "failed" in line)
    assert "dms: " in failure and "'Read, write and Direct Messages' permission" in failure
    assert "mentions +" in failure, "mentions still work"
    assert doctor.returncode == 1
    level = next(line for line in doctor.stdout.splitlines()
                 if "sandbox-x app permission" in line)
    assert level.startswith("✗") and "direct messages cannot be read or sent" in level
