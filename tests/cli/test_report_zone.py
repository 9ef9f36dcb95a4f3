"""Report days and `--since`/`--until` are the desk's (`[hours] timezone`, Europe/Rome by
default), whatever the machine's `TZ`: cron on a server in New York cuts Rome's days."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import Channel, Direction, InboundItem
from tests.support import run_cli, x_desk_holding

BEFORE_ROME_MIDNIGHT = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # 23:30 Sun 29 in Rome
AFTER_ROME_MIDNIGHT = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # 00:30 Mon 30 in Rome
LATE_MONDAY = datetime(2026, 11, 30, 22, 45, tzinfo=UTC)  # 23:45 Mon 30 in Rome
PAST_MONDAY = datetime(2026, 11, 30, 23, 15, tzinfo=UTC)  # 00:15 Tue 1 Dec in Rome


def mention(external_id: str, when: datetime) -> InboundItem:
    return InboundItem(platform="x", external_id=external_id, channel=Channel.MENTION,
                       direction=Direction.INBOUND, thread_key=external_id, text="ciao",
                       created_at=when, author_id=f"c{external_id}",
                       author_handle=f"customer_{external_id}")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    items = [mention("1", BEFORE_ROME_MIDNIGHT), mention("2", AFTER_ROME_MIDNIGHT),
             mention("3", LATE_MONDAY), mention("4", PAST_MONDAY)]
    path, engine, _ = x_desk_holding(tmp_path, "mentions", items, PAST_MONDAY)
    engine.dispose()
    return path


def report(config: Path, machine_zone: str, kind: str, *options: str) -> list[dict[str, str]]:
    result = run_cli("report", kind, *options, "--config", str(config),
                     env={**os.environ, "TZ": machine_zone})
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout, newline="")))


@pytest.mark.parametrize("kind", ["daily", "messages", "conversations"])
def test_a_machine_in_new_york_reports_the_desk_s_days(config: Path, kind: str) -> None:
    monday = ("--since", "2026-11-30", "--until", "2026-11-30")
    in_rome = report(config, "Europe/Rome", kind, *monday)
    assert report(config, "America/New_York", kind, *monday) == in_rome
    assert report(config, "UTC", kind, *monday) == in_rome


def test_days_and_periods_are_rome_s(config: Path) -> None:
    machine = "America/New_York"
    monday = report(config, machine, "messages", "--since", "2026-11-30", "--until",
                    "2026-11-30")
    assert [row["external_id"] for row in monday] == ["2", "3"]
    assert [row["created_at"] for row in monday] == ["2026-11-29T23:30:00Z",
                                                     "2026-11-30T22:45:00Z"]
    days = report(config, machine, "daily")
    assert [(row["day"], row["inbound"]) for row in days] == [
        ("2026-11-29", "1"), ("2026-11-30", "2"), ("2026-12-01", "1")]
