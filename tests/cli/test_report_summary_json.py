"""`socialdesk report summary --json`: the figures of the table, for a script to read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import Channel, Direction, InboundItem
from tests.support import run_cli, x_desk_holding

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def dm(external_id: str, thread: str, when: datetime, outbound: bool = False) -> InboundItem:
    return InboundItem(platform="x", external_id=external_id, channel=Channel.DM,
                       direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
                       thread_key=thread, text="ciao", created_at=when,
                       author_id="9" if outbound else f"c{thread}",
                       author_handle=None if outbound else f"customer_{thread}")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Two DM conversations on Monday 30 Nov: one answered after 30 minutes, one not."""
    items = [dm("1", "a", MONDAY), dm("2", "a", MONDAY + timedelta(minutes=30), outbound=True),
             dm("3", "b", MONDAY + timedelta(hours=1))]
    path, engine, _ = x_desk_holding(tmp_path, "dms", items, MONDAY)
    engine.dispose()
    return path


def summary(config: Path, *options: str) -> str:
    result = run_cli("report", "summary", "--since", "2026-11-29", "--until", "2026-12-01",
                     *options, "--config", str(config))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_json_has_the_table_figures_as_numbers_and_the_period_with_its_offset(
    config: Path,
) -> None:
    figures = json.loads(summary(config, "--json"))
    (dms,) = figures["channels"]
    assert dms == figures["all"] | {"channel": "dm"}
    assert (dms["messages_in"], dms["conversations"], dms["answered"]) == (2, 2, 1)
    assert isinstance(dms["first_response_median_minutes"], float)
    since, until = (datetime.fromisoformat(figures[end]) for end in ("since", "until"))
    assert since.utcoffset() is not None and until.utcoffset() is not None
    assert since < MONDAY < until
    table = summary(config)
    assert "From Sun 29 Nov" in table and "│ dm " in table


def test_json_is_refused_for_a_csv_report(config: Path) -> None:
    result = run_cli("report", "messages", "--json", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr == ("socialdesk: usage error: --json applies to summary; messages "
                             "is a CSV report\n")
    assert result.stdout == ""
