"""`socialdesk sync` as cron runs it: real processes, real tweepy and requests, the sandbox."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, text
from sqlmodel import Session, select

from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.store.models import Account, Message, QuarantineEntry

TOKEN = "sandbox-secret-0f9e8d7c"
"""A recognisable token value: it must never show up in output or logs."""

CUSTOMER_CHANNELS = {"mention", "dm", "comment", "visitor_post", "messenger"}


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=7, static=True, messages=80) as server:
        server.start()
        yield server


@pytest.fixture
def config_path(sandbox: SandboxServer, tmp_path: Path) -> Path:
    return write_config(tmp_path / "config.toml", sandbox.base_url)


def sync(config_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialdesk", *extra, "sync", "--config", str(config_path)],
        capture_output=True, text=True, timeout=180, env=_env(),
    )


def _env() -> dict[str, str]:
    return {**os.environ, SANDBOX_TOKEN_ENV: TOKEN}


def database(config_path: Path) -> str:
    return f"sqlite:///{config_path.parent / 'socialdesk.db'}"


def stored_keys(config_path: Path) -> Counter[tuple[str, str]]:
    engine = create_engine(database(config_path))
    with Session(engine) as session:
        rows = session.exec(select(Message.platform, Message.external_id)).all()
    engine.dispose()
    return Counter((platform, external_id) for platform, external_id in rows)


def sandbox_keys(sandbox: SandboxServer) -> set[tuple[str, str]]:
    """Every message a customer or the brand wrote on a channel socialdesk reads
    (X's ParticipantsJoin events are not messages)."""
    return {
        (item["platform"], item["id"])
        for item in sandbox.state()["items"]
        if item["channel"] in CUSTOMER_CHANNELS
        and item.get("event_type", "MessageCreate") == "MessageCreate"
    }


def test_a_second_sync_adds_nothing(sandbox: SandboxServer, config_path: Path) -> None:
    first = sync(config_path)
    assert first.returncode == 0, first.stderr
    stored = stored_keys(config_path)
    assert max(stored.values()) == 1
    assert set(stored) == sandbox_keys(sandbox)
    second = sync(config_path)
    assert second.returncode == 0, second.stderr
    assert stored_keys(config_path) == stored
    assert "+0" in second.stderr and "+1" not in second.stderr


def test_new_customer_messages_arrive_on_the_next_sync(
    sandbox: SandboxServer, config_path: Path
) -> None:
    assert sync(config_path).returncode == 0
    before = stored_keys(config_path)
    sandbox.generate(6)
    assert sync(config_path).returncode == 0
    after = stored_keys(config_path)
    assert set(after) == sandbox_keys(sandbox)
    assert len(after) > len(before) and max(after.values()) == 1


def test_a_sync_killed_mid_walk_loses_and_doubles_nothing(tmp_path: Path) -> None:
    with SandboxServer(seed=3, static=True, messages=1500) as server:
        server.start()
        config = write_config(tmp_path / "config.toml", server.base_url)
        process = subprocess.Popen(
            [sys.executable, "-m", "socialdesk", "sync", "--config", str(config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(),
        )
        _wait_for_some_messages(config, process)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert process.returncode == -signal.SIGKILL, "the sync finished before the kill"
        partial = sum(stored_keys(config).values())
        rerun = sync(config)
        assert rerun.returncode == 0, rerun.stderr
        stored = stored_keys(config)
        assert max(stored.values()) == 1
        assert set(stored) == sandbox_keys(server)
        assert 0 < partial < len(stored)


RESET_AT = r"(?:\d{4}-\d\d-\d\d )?(\d\d:\d\d:\d\d) CES?T"
"""A reset on the desk's clock; its date shows when it falls on another day there (a sync
run in the quarter of an hour before midnight in Rome)."""


def _clock_gap(first: str, second: str) -> int:
    """Seconds between two HH:MM:SS times of day, across midnight too."""
    def seconds(clock: str) -> int:
        hours, minutes, secs = (int(part) for part in clock.split(":"))
        return hours * 3600 + minutes * 60 + secs

    gap = abs(seconds(first) - seconds(second))
    return min(gap, 86400 - gap)


def _wait_for_some_messages(config: Path, process: subprocess.Popen[bytes]) -> None:
    engine = create_engine(database(config))
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with engine.connect() as connection:
                    if connection.execute(text("SELECT count(*) FROM message")).scalar():
                        return
            except Exception:  # noqa: BLE001  (the schema may not exist yet)
                pass
            time.sleep(0.02)
    finally:
        engine.dispose()


def test_overlapping_syncs_never_double_ingest(sandbox: SandboxServer, config_path: Path) -> None:
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "socialdesk", "sync", "--config", str(config_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        )
        for _ in range(3)
    ]
    outcomes = [run.communicate(timeout=180) for run in runs]
    assert {run.returncode for run in runs} <= {0, 75}, outcomes
    for run, (_, stderr) in zip(runs, outcomes, strict=True):
        if run.returncode == 75:
            assert "deferred: another socialdesk process (pid " in stderr, stderr
    final = sync(config_path)
    assert final.returncode == 0
    stored = stored_keys(config_path)
    assert max(stored.values()) == 1
    assert set(stored) == sandbox_keys(sandbox)


def test_an_expired_token_fails_that_account_only_and_says_what_to_do(
    sandbox: SandboxServer, config_path: Path
) -> None:
    sandbox.inject({"target": "x.*", "kind": "expired_token", "count": 50})
    result = sync(config_path)
    assert result.returncode == 1
    failed = [line for line in result.stderr.splitlines() if "failed" in line]
    assert len(failed) == 1 and failed[0].startswith("sandbox-x: failed:")
    assert "regenerate" in failed[0]
    assert any(p == "facebook" for p, _ in stored_keys(config_path))
    engine = create_engine(database(config_path))
    with Session(engine) as session:
        account = session.exec(select(Account).where(Account.name == "sandbox-x")).one()
    engine.dispose()
    assert account.health == "unhealthy"


def test_a_rate_limited_stream_stops_until_its_reset(
    sandbox: SandboxServer, config_path: Path
) -> None:
    sandbox.inject({"target": "x.mentions", "kind": "rate_limit", "count": 1})
    limited = sync(config_path)
    assert limited.returncode == 75, "a rate limit is deferred (EX_TEMPFAIL), not failed"
    resumes = re.search(r"^sandbox-x: mentions \+0 \(deferred: rate limited; "
                        rf"resumes at {RESET_AT}\), dms \+\d+$", limited.stderr, re.MULTILINE)
    assert resumes, limited.stderr
    reset = (datetime.now(UTC) + timedelta(minutes=15)).astimezone(ZoneInfo("Europe/Rome"))
    assert _clock_gap(resumes[1], f"{reset:%H:%M:%S}") <= 60, \
        "at the window's reset, on the desk's clock (the sandbox config's zone is Rome's)"
    assert re.search(r"^sandbox-facebook: feed \+\d+, messenger \+\d+$", limited.stderr,
                     re.MULTILINE), "the other account's line says nothing was deferred"
    later = sync(config_path)
    assert later.returncode == 75, later.stderr
    skipped = re.search(rf"mentions \+0 \(deferred: rate limited, skipped; resumes at {RESET_AT}\)",
                        later.stderr)
    assert skipped and skipped[1] == resumes[1], later.stderr
    mentions = {("x", i["id"]) for i in sandbox.state()["items"] if i["channel"] == "mention"}
    stored = set(stored_keys(config_path))
    assert not mentions & stored, "mentions must wait for the reset, not be polled again"
    assert any(key[0] == "facebook" for key in stored)


def test_a_server_error_is_retried_and_the_sync_succeeds(
    sandbox: SandboxServer, config_path: Path
) -> None:
    sandbox.inject({"target": "facebook.feed", "kind": "server_error", "count": 1})
    result = sync(config_path)
    assert result.returncode == 0, result.stderr
    assert set(stored_keys(config_path)) == sandbox_keys(sandbox)


def test_a_malformed_item_is_quarantined_and_the_rest_is_stored(
    sandbox: SandboxServer, config_path: Path
) -> None:
    sandbox.inject({"target": "x.mentions", "kind": "malformed", "count": 1})
    result = sync(config_path)
    assert result.returncode == 0, result.stderr
    assert "quarantined" in result.stderr
    engine = create_engine(database(config_path))
    with Session(engine) as session:
        quarantined = session.exec(select(func.count()).select_from(QuarantineEntry)).one()
    engine.dispose()
    assert quarantined >= 1
    assert len(stored_keys(config_path)) >= len(sandbox_keys(sandbox)) - quarantined


def test_debug_logging_leaks_no_token(config_path: Path) -> None:
    result = sync(config_path, "-vv")
    assert result.returncode == 0, result.stderr
    assert "DEBUG" in result.stderr
    assert TOKEN not in result.stderr and TOKEN not in result.stdout


def test_public_posts_with_personal_data_are_flagged(
    sandbox: SandboxServer, config_path: Path
) -> None:
    assert sync(config_path).returncode == 0
    engine = create_engine(database(config_path))
    with Session(engine) as session:
        flagged = session.exec(select(Message).where(Message.has_pii)).all()
    engine.dispose()
    assert flagged, "the sandbox's customers put personal data in some public posts"
    assert all(message.pii_types for message in flagged)


def test_the_messages_report_has_the_contract_columns_and_masks_personal_data(
    sandbox: SandboxServer, config_path: Path
) -> None:
    assert sync(config_path).returncode == 0
    result = subprocess.run(
        [sys.executable, "-m", "socialdesk", "report", "messages", "--config", str(config_path),
         "-o", "-"], capture_output=True, text=True, timeout=120, env=_env(),
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0])[:11] == [
        "platform", "account", "channel", "visibility", "external_id", "conversation_id",
        "direction", "author_handle", "created_at", "text", "has_pii",
    ]
    assert len(rows) == len(stored_keys(config_path))
    assert all(row["created_at"].endswith("Z") for row in rows)
    flagged = [row for row in rows if row["has_pii"] == "true"]
    assert flagged and all("*" in row["text"] for row in flagged)


def test_the_demo_runs_on_the_embedded_default() -> None:
    result = subprocess.run([sys.executable, "-m", "socialdesk", "demo", "--messages", "30"],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "Newest 20 conversations" in result.stdout
    assert "mention" in result.stdout and "messenger" in result.stdout


@pytest.mark.postgres
def test_sync_into_postgresql_is_exactly_once_too(
    sandbox: SandboxServer, config_path: Path, postgres_database: str
) -> None:
    engine = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    lines = [f'url = "{postgres_database}"' if line.startswith("url = ") else line
             for line in config_path.read_text().splitlines()]
    config_path.write_text("\n".join(lines) + "\n")
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "socialdesk", "sync", "--config", str(config_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        )
        for _ in range(2)
    ]
    outcomes = [run.communicate(timeout=180) for run in runs]
    assert {run.returncode for run in runs} <= {0, 75}, outcomes
    assert all(run.returncode == 0 or "deferred: another socialdesk process" in stderr
               for run, (_, stderr) in zip(runs, outcomes, strict=True)), outcomes
    assert sync(config_path).returncode == 0
    with Session(engine) as session:
        rows = session.exec(select(Message.platform, Message.external_id)).all()
    engine.dispose()
    stored = Counter((platform, external_id) for platform, external_id in rows)
    assert max(stored.values()) == 1
    assert set(stored) == sandbox_keys(sandbox)
