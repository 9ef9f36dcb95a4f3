"""`socialdesk run` and `socialdesk doctor` as users start them: real processes, the sandbox."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import Session, col, select

from socialdesk.clock import system_clock
from socialdesk.config import load_settings
from socialdesk.desk import answers
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.state import X_USER_ID
from socialdesk.scheduler import DeskScheduler
from socialdesk.store.db import open_store
from socialdesk.store.models import Conversation
from tests.integration.test_sync_sandbox import sandbox_keys, stored_keys, sync

TOKEN = f"{X_USER_ID}-sandbox-secret-0f9e8d7c"
"""Shaped like an OAuth 1.0a access token of the sandbox's X account."""
FAST_POLLS = {"x": "{ mentions = 2, dms = 2 }", "facebook": "{ feed = 2, messenger = 2 }"}
FAST_LIMITS = {"x.mentions": 10_000, "x.dm_events": 10_000, "x.me": 10_000}
"""Polling 45-90x faster than production needs limits as much higher (as the soak does);
the 429 test injects its own."""


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=11, static=True, messages=40, rate_limits=FAST_LIMITS) as server:
        server.start()
        yield server


def fast_config(sandbox: SandboxServer, tmp_path: Path) -> Path:
    """The sandbox config with every stream polled every 2 s."""
    path = write_config(tmp_path / "config.toml", sandbox.base_url)
    text = path.read_text(encoding="utf-8")
    for platform, polls in FAST_POLLS.items():
        text = text.replace(f'platform = "{platform}"\n',
                            f'platform = "{platform}"\npoll_seconds = {polls}\n')
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def config_path(sandbox: SandboxServer, tmp_path: Path) -> Path:
    return fast_config(sandbox, tmp_path)


def env() -> dict[str, str]:
    return {**os.environ, SANDBOX_TOKEN_ENV: TOKEN}


def start_run(config_path: Path, runners: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "run", "--config", str(config_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
    )
    runners.append(process)
    return process


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


def wait_until(condition: object, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def stored_count(config_path: Path) -> int:
    try:
        return sum(stored_keys(config_path).values())
    except Exception:  # noqa: BLE001  (the schema may not exist yet)
        return 0


def test_run_keeps_the_queue_fresh_and_stops_cleanly_on_sigterm(
    sandbox: SandboxServer, config_path: Path, runners: list[subprocess.Popen[str]]
) -> None:
    process = start_run(config_path, runners)
    assert wait_until(lambda: set(stored_keys(config_path)) == sandbox_keys(sandbox)
                      if stored_count(config_path) else False)
    sandbox.generate(8)
    assert wait_until(lambda: set(stored_keys(config_path)) == sandbox_keys(sandbox)), \
        "new customer messages must arrive without a new command"
    returncode, stderr = stop(process)
    assert returncode == 0, stderr
    assert "SIGTERM received" in stderr and "socialdesk run: stopped" in stderr
    assert re.search(r"sandbox-x/mentions: \+\d+ new, .* in [\d.]+ s; next run \d\d:\d\d:\d\d",
                     stderr)
    assert max(stored_keys(config_path).values()) == 1


def test_sigterm_in_the_middle_of_a_long_walk_stores_whole_pages_and_exits_0(
    tmp_path: Path, runners: list[subprocess.Popen[str]]
) -> None:
    with SandboxServer(seed=3, static=True, messages=1500, rate_limits=FAST_LIMITS) as server:
        server.start()
        config = fast_config(server, tmp_path)
        process = start_run(config, runners)
        assert wait_until(lambda: stored_count(config) > 0, 60)
        returncode, stderr = stop(process)
        assert returncode == 0, stderr
        partial = stored_count(config)
        assert partial < len(sandbox_keys(server)), "the walk finished before the signal"
        rerun = sync(config)
        assert rerun.returncode == 0, rerun.stderr
        stored = stored_keys(config)
        assert max(stored.values()) == 1 and set(stored) == sandbox_keys(server)


def test_a_rate_limited_stream_waits_for_its_reset_instead_of_polling(
    sandbox: SandboxServer, config_path: Path, runners: list[subprocess.Popen[str]]
) -> None:
    sandbox.inject({"target": "x.mentions", "kind": "rate_limit", "count": 1})
    process = start_run(config_path, runners)
    time.sleep(12)
    returncode, stderr = stop(process)
    assert returncode == 0, stderr
    mentions = [line for line in stderr.splitlines() if "sandbox-x/mentions:" in line]
    dms = [line for line in stderr.splitlines() if "sandbox-x/dms:" in line]
    assert len(mentions) == 1, "after a 429 the stream must not poll again before its reset"
    assert "rate limited until" in mentions[0]
    assert len(dms) >= 2, "the other streams keep their own schedule"
    limited_until = re.search(r"until \S+ (\d\d:\d\d:\d\d)", mentions[0])
    next_run = re.search(r"next run (\d\d:\d\d:\d\d)", mentions[0])
    assert limited_until and next_run and next_run[1] >= limited_until[1]


def test_run_and_cron_syncs_overlapping_never_double_ingest(
    sandbox: SandboxServer, config_path: Path, runners: list[subprocess.Popen[str]]
) -> None:
    process = start_run(config_path, runners)
    for _ in range(3):
        sandbox.generate(5)
        crons = [subprocess.Popen(
            [sys.executable, "-m", "socialdesk", "sync", "--config", str(config_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env(),
        ) for _ in range(2)]
        for cron in crons:
            _, cron_stderr = cron.communicate(timeout=120)
            assert cron.returncode in (0, 75), cron_stderr
            assert cron.returncode == 0 or "deferred: another socialdesk process" in cron_stderr
    returncode, stderr = stop(process)
    assert returncode == 0, stderr
    assert sync(config_path).returncode == 0
    stored = stored_keys(config_path)
    assert max(stored.values()) == 1
    assert set(stored) == sandbox_keys(sandbox)


def test_run_once_is_one_sync(sandbox: SandboxServer, config_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "socialdesk", "run", "--once", "--config", str(config_path)],
        capture_output=True, text=True, timeout=120, env=env(),
    )
    assert result.returncode == 0, result.stderr
    assert "sandbox-x: mentions +" in result.stderr
    assert set(stored_keys(config_path)) == sandbox_keys(sandbox)


def doctor(config_path: Path, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialdesk", "doctor", "--config", str(config_path)],
        capture_output=True, text=True, timeout=120, env={**env(), SANDBOX_TOKEN_ENV: token},
    )


def test_doctor_passes_on_a_healthy_synced_sandbox(config_path: Path) -> None:
    assert sync(config_path).returncode == 0
    result = doctor(config_path)
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert all(line.startswith("✓") for line in lines[:-1]), result.stdout
    assert any("keys work for @" in line for line in lines)
    assert any("sandbox-facebook conversations: readable" in line for line in lines)
    assert any("sandbox-x/dms last sync" in line for line in lines)
    assert lines[-1] == "doctor: all good"


def test_doctor_warns_about_streams_never_synced_without_failing(config_path: Path) -> None:
    result = doctor(config_path)
    assert result.returncode == 0, result.stdout
    assert "! sandbox-x/mentions last sync: never succeeded" in result.stdout


def test_doctor_fails_on_an_expired_token_and_says_what_to_do(
    sandbox: SandboxServer, config_path: Path
) -> None:
    sandbox.inject({"target": "x.*", "kind": "expired_token", "count": 5})
    result = doctor(config_path)
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert len(failed) == 1 and failed[0].startswith("✗ sandbox-x token:")
    assert "regenerate the access token" in failed[0]
    assert TOKEN not in result.stdout + result.stderr


def test_doctor_catches_keys_of_another_account_offline(config_path: Path) -> None:
    result = doctor(config_path, token="999-not-our-account")
    assert result.returncode == 1
    assert "✗ sandbox-x token: the access token belongs to user 999" in result.stdout


def test_doctor_reports_a_broken_config_and_exits_non_zero(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[accounts]]\nname = 'x'\nplatform = 'x'\npoll_seconds = { dms = 1 }\n")
    result = doctor(broken)
    assert result.returncode == 1
    assert result.stdout.startswith(f"✗ config: {broken}")


def test_run_sends_the_answers_waiting_in_the_outbox(
    sandbox: SandboxServer, config_path: Path, runners: list[subprocess.Popen[str]]
) -> None:
    assert sync(config_path).returncode == 0
    settings = load_settings(config_path)
    engine = open_store(settings.database.effective_url)
    with Session(engine) as session:
        mention = session.exec(select(Conversation).where(
            Conversation.channel == "mention", col(Conversation.last_inbound_at).is_not(None))
        ).first()
    assert mention is not None
    answers.reply(engine, mention.id or 0, "Ci pensiamo noi, grazie!", "AB", settings=settings,
                now=system_clock)
    engine.dispose()
    process = start_run(config_path, runners)
    assert wait_until(lambda: any(a["kind"] == "x.reply" for a in sandbox.state()["actions"]))
    returncode, stderr = stop(process)
    assert returncode == 0, stderr
    assert [a["kind"] for a in sandbox.state()["actions"] if a["ok"]] == ["x.reply"]


def test_scheduled_reports_become_cron_jobs_of_run(tmp_path: Path, config_path: Path) -> None:
    output = tmp_path / "weekly-{kind}-{since}.csv"
    config_path.write_text(config_path.read_text(encoding="utf-8").replace(
        "[[accounts]]", f'[[reports.schedule]]\ncron = "0 7 * * mon"\nkind = "messages"\n'
        f'output = "{output}"\n\n[[accounts]]', 1), encoding="utf-8")
    settings = load_settings(config_path)
    engine = open_store(settings.database.effective_url)
    desk = DeskScheduler(settings, engine, scheduler=BackgroundScheduler(timezone=UTC))
    assert desk.scheduler is not None
    job = desk.scheduler.get_job("report:1")
    assert job is not None and "cron[" in str(job.trigger) and "hour='7'" in str(job.trigger)
    desk.write_report(settings.reports.schedule[0])
    engine.dispose()
    written = list(tmp_path.glob("weekly-messages-*.csv"))
    assert len(written) == 1 and written[0].read_text(encoding="utf-8").startswith("platform,")


def test_the_dm_permission_failure_is_logged_once_over_several_passes_of_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """X refusing DMs for the app's permission comes back every 3 minutes: the long reason
    is told once, later passes point back to it."""
    monkeypatch.setenv(SANDBOX_TOKEN_ENV, TOKEN)
    with SandboxServer(seed=3, static=True, messages=40, x_access_level="read-write") as server:
        server.start()
        settings = load_settings(write_config(tmp_path / "config.toml", server.base_url))
        engine = open_store(settings.database.effective_url)
        desk = DeskScheduler(settings, engine, scheduler=BackgroundScheduler(timezone=UTC))
        [x_account] = [a for a in settings.accounts if a.platform == "x"]
        with caplog.at_level(logging.INFO, logger="socialdesk.scheduler"):
            for _ in range(3):
                desk.pull(x_account, "dms")
        engine.dispose()
    passes = [r.getMessage() for r in caplog.records if r.getMessage().startswith(
        f"{x_account.name}/dms: ")]
    assert len(passes) == 3
    told = [line for line in passes if "'Read, write and Direct Messages' permission" in line]
    assert told == passes[:1]
    assert all("failed again, as logged at " in line for line in passes[1:])
