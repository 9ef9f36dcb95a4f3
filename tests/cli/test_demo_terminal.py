"""`socialdesk demo` at a terminal opens the desk, and `q` leaves it (the issue's first step)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

DEADLINE_SECONDS = 90


def _read_until(fd: int, wanted: bytes, deadline: float) -> bytes:
    seen = b""
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
    return seen


def test_demo_on_a_terminal_opens_the_desk_and_q_quits(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "30",
                   "HOME": str(tmp_path)}
    demo = subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "demo", "--messages", "12"],
        stdin=terminal, stdout=terminal, stderr=terminal, env=environment, close_fds=True,
    )
    os.close(terminal)
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        screen = _read_until(controller, b"All keys", deadline)  # the desk's key line, `?` last
        assert b"Open" in screen and b"All keys" in screen, screen[-2000:]
        os.write(controller, b"q")
        assert demo.wait(timeout=max(1.0, deadline - time.monotonic())) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
        os.close(controller)
