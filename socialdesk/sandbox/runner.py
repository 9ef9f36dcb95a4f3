"""The blocking loop behind `socialdesk sandbox`: start, announce, serve, stop cleanly."""

from __future__ import annotations

import errno
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from socialdesk.errors import UsageError
from socialdesk.sandbox.options import SANDBOX_TOKEN_ENV, write_config
from socialdesk.sandbox.server import SandboxServer

PORT_REFUSALS = {
    errno.EADDRINUSE: "the port is in use (another sandbox?)",
    errno.EACCES: "ports below 1024 need privileges",
}
"""Why a port cannot be bound, when it is the user's choice of port to change."""


def serve(
    port: int,
    seed: int,
    static: bool,
    messages: int,
    write_config_path: Path | None,
    out: TextIO,
    *,
    stop: threading.Event | None = None,
    rate_window: int | None = None,
    x_access_level: str = "read-write-directmessages",
) -> None:
    """Serve until Ctrl-C, SIGTERM or `stop` is set (the last is for tests and embedding)."""
    stop = stop or threading.Event()
    server = SandboxServer(seed=seed, static=static, messages=messages, port=port,
                           rate_window=rate_window, x_access_level=x_access_level)
    try:
        url = server.start()
    except OSError as error:
        if error.errno not in PORT_REFUSALS:
            raise
        raise UsageError(f"cannot listen on {server.host}:{port}: {PORT_REFUSALS[error.errno]}; "
                         "choose another with --port (0 picks a free one)") from None
    restore = _on_sigterm(stop)
    try:
        if write_config_path is not None:
            written = write_config(write_config_path, url)
        print(f"socialdesk sandbox: X API v2 and Graph API at {url}", file=out)
        print(
            f"set {SANDBOX_TOKEN_ENV} to any value, e.g. export {SANDBOX_TOKEN_ENV}=sandbox",
            file=out,
        )
        if rate_window is not None:
            print(f"rate-limit windows shortened to {rate_window} s (X and Graph)", file=out)
        if write_config_path is not None:
            print(f"config written to {written}", file=out)
        out.flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        restore()


def _on_sigterm(stop: threading.Event) -> Callable[[], object]:
    """Make SIGTERM set `stop` (main thread only); return a function restoring the old handler."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)
