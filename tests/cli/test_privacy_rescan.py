"""`socialdesk privacy rescan` from the command line: a settings change is named by
`doctor` until the rescan applies it, and the report then masks what the guard decides on."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from connectors.base import Channel
from socialdesk.store.models import Message
from tests.support import item, run_cli, x_desk_holding

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
X_ACCOUNT = """
[[accounts]]
name = "brand-x"
platform = "x"
user_id = "99"
bearer_token_env = "SOCIALDESK_TEST_NO_SUCH_A"
consumer_key_env = "SOCIALDESK_TEST_NO_SUCH_B"
consumer_secret_env = "SOCIALDESK_TEST_NO_SUCH_C"
access_token_env = "SOCIALDESK_TEST_NO_SUCH_D"
access_token_secret_env = "SOCIALDESK_TEST_NO_SUCH_E"
"""
BADGES = '\n[privacy.patterns]\nbadge = "\\\\bZQ-[0-9]{4}\\\\b"\n'


def desk_with_badges(tmp_path: Path) -> Path:
    """A desk whose messages were stored before `[privacy.patterns]` named badges."""
    items = [item("public", text="@brand hello ZQ-7781 thanks"),
             item("dm", text="hi, ZQ-5512 here", channel=Channel.DM, thread_key="dm-1",
                  minutes=1)]
    path, engine, _account = x_desk_holding(tmp_path, "mixed", items, NOW)
    engine.dispose()
    path.write_text(path.read_text() + X_ACCOUNT)
    return path


def doctor_line(path: Path) -> str:
    result = run_cli("doctor", "--config", str(path))
    return next(line for line in result.stdout.splitlines() if "personal data" in line)


def test_settings_change_then_rescan_then_everything_agrees(tmp_path: Path) -> None:
    path = desk_with_badges(tmp_path)
    first = run_cli("privacy", "rescan", "--config", str(path))
    assert first.returncode == 0, first.stderr
    assert "rescanned 2 message(s) (brand-x): 0 changed" in first.stdout
    assert "stored spans match" in doctor_line(path)

    path.write_text(path.read_text() + BADGES)
    assert ("detector settings changed since the last scan: run socialdesk privacy rescan"
            in doctor_line(path))

    second = run_cli("privacy", "rescan", "--account", "brand-x", "--config", str(path))

    assert second.returncode == 0, second.stderr
    assert "rescanned 2 message(s) (brand-x): 2 changed" in second.stdout
    assert "now with personal data: 2" in second.stdout
    assert "1 public message(s) now wait for the privacy guard" in second.stdout
    assert "stored spans match" in doctor_line(path)
    report = run_cli("report", "messages", "--config", str(path), "-o", "-")
    rows = {row["external_id"]: row for row in csv.DictReader(io.StringIO(report.stdout))}
    assert rows["public"]["has_pii"] == "true" and "7781" not in rows["public"]["text"]
    assert rows["dm"]["has_pii"] == "true" and "5512" not in rows["dm"]["text"]


def test_rescan_of_an_unknown_account_is_a_usage_error(tmp_path: Path) -> None:
    path = desk_with_badges(tmp_path)
    result = run_cli("privacy", "rescan", "--account", "nope", "--config", str(path))
    assert result.returncode == 2
    assert "no account named 'nope'" in result.stderr


def stored_states(path: Path) -> dict[str, str | None]:
    from socialdesk.config import load_settings
    from socialdesk.store.db import open_configured_store

    engine = open_configured_store(load_settings(path))
    try:
        with Session(engine) as session:
            return {m.external_id: m.privacy_state for m in session.exec(select(Message))}
    finally:
        engine.dispose()


def test_the_rescanned_public_post_waits_for_the_guard(tmp_path: Path) -> None:
    path = desk_with_badges(tmp_path)
    path.write_text(path.read_text() + BADGES)
    assert run_cli("privacy", "rescan", "--config", str(path)).returncode == 0
    assert stored_states(path) == {"public": "undecided", "dm": None}
