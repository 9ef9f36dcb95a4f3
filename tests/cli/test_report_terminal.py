"""`socialdesk report messages -o -` on a terminal shows a customer's escape sequences as
marks, as the desk does; a file or a pipe gets the text as the customer wrote it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import Channel, Direction, InboundItem
from tests.support import run_cli, x_desk_holding

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TITLE_AND_CLIPBOARD = "\x1b]0;you have been pwned\x07\x1b]52;c;Y3VybCBldmlsLnNo\x07"
"""An OSC that sets the window title and one that writes the clipboard."""
COMMENT = f"ciao {TITLE_AND_CLIPBOARD}grazie"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A SQLite desk holding one public comment with a title and a clipboard sequence."""
    item = InboundItem(platform="x", external_id="1", channel=Channel.MENTION,
                       direction=Direction.INBOUND, thread_key="t", text=COMMENT,
                       created_at=NOW, author_id="c1", author_handle="customer")
    path, engine, _ = x_desk_holding(tmp_path, "mentions", [item], NOW)
    engine.dispose()
    return path


def on_a_terminal(*args: str) -> str:
    """`socialdesk ARGS` with stdout on a pseudo-terminal, as a manager at a shell sees it."""
    leader, follower = os.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "socialdesk", *args],
                                   stdout=follower, stderr=subprocess.DEVNULL)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=120) == 0
    finally:
        os.close(leader)
    return b"".join(chunks).decode("utf-8")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_report_on_a_terminal_shows_escape_sequences_as_marks(config: Path) -> None:
    shown = on_a_terminal("report", "messages", "-o", "-", "--config", str(config))
    assert "\x1b" not in shown and "\x07" not in shown
    assert "ciao ␛]0;you have been pwned␇␛]52;c;Y3VybCBldmlsLnNo␇grazie" in shown
    assert shown.startswith("platform,account,")


def test_a_report_to_a_file_or_a_pipe_keeps_the_text_as_written(
    config: Path, tmp_path: Path,
) -> None:
    target = tmp_path / "messages.csv"
    to_file = run_cli("report", "messages", "-o", str(target), "--config", str(config))
    assert to_file.returncode == 0, to_file.stderr
    assert COMMENT in target.read_text(encoding="utf-8")
    to_pipe = run_cli("report", "messages", "-o", "-", "--config", str(config))
    assert to_pipe.returncode == 0, to_pipe.stderr
    assert COMMENT in to_pipe.stdout
