"""A long export shows its progress on a terminal (stderr), and only there."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import Channel, Direction, InboundItem
from tests.support import run_cli, x_desk_holding

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    items = [InboundItem(platform="x", external_id=str(n), channel=Channel.MENTION,
                         direction=Direction.INBOUND, thread_key=str(n), text="ciao",
                         created_at=MONDAY + timedelta(minutes=n), author_id=f"c{n}",
                         author_handle=f"customer_{n}") for n in range(30)]
    path, engine, _ = x_desk_holding(tmp_path, "mentions", items, MONDAY)
    engine.dispose()
    return path


def stderr_on_a_terminal(*args: str) -> tuple[int, str]:
    """`socialdesk ARGS` with stderr on a pseudo-terminal; its exit code and what the
    terminal received."""
    controller, terminal = pty.openpty()
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    environment.pop("NO_COLOR", None)
    child = subprocess.Popen([sys.executable, "-m", "socialdesk", *args],
                             stdout=subprocess.DEVNULL, stderr=terminal, env=environment)
    os.close(terminal)
    received = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if select.select([controller], [], [], 0.2)[0]:
                try:
                    chunk = os.read(controller, 1 << 16)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                received += chunk
            elif child.poll() is not None:
                break
        code = child.wait(timeout=60)
    finally:
        os.close(controller)
    return code, received.decode(errors="replace")


def test_a_report_to_a_file_shows_its_rows_on_a_terminal(config: Path, tmp_path: Path) -> None:
    output = tmp_path / "messages.csv"
    code, shown = stderr_on_a_terminal("report", "messages", "-o", str(output),
                                       "--config", str(config))
    assert code == 0, shown
    assert "messages report" in shown and " rows" in shown
    assert shown.rstrip().endswith("30 rows")
    assert len(output.read_text(encoding="utf-8").splitlines()) == 31


def test_without_a_terminal_stderr_has_the_count_alone(config: Path, tmp_path: Path) -> None:
    result = run_cli("report", "messages", "-o", str(tmp_path / "m.csv"),
                     "--config", str(config))
    assert (result.returncode, result.stderr) == (0, "30 rows\n")
