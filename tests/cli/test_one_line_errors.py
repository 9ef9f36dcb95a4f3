"""One line per error: a host that is down, missing tokens, a busy sandbox port."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from socialdesk.sandbox import SANDBOX_TOKEN_ENV, sandbox_config_text
from tests.support import run_cli


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_host_that_is_down_is_one_short_line_per_stream(tmp_path: Path) -> None:
    port = closed_port()
    config = tmp_path / "config.toml"
    config.write_text(sandbox_config_text(f"http://127.0.0.1:{port}",
                                          f"sqlite:///{tmp_path / 'desk.db'}"))
    result = run_cli("sync", "--config", str(config),
                     env={**os.environ, SANDBOX_TOKEN_ENV: "sandbox-token"})
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] == ["sandbox-x", "sandbox-facebook"]
    assert lines[0] == (f"sandbox-x: failed: mentions: X mentions: cannot reach 127.0.0.1:{port}: "
                        f"connection refused; dms: X direct messages: cannot reach "
                        f"127.0.0.1:{port}: connection refused")
    assert "Max retries" not in result.stderr and "HTTPConnectionPool" not in result.stderr


def test_doctor_names_every_missing_token_variable_at_once(tmp_path: Path) -> None:
    """One variable per secret key; two are set: doctor names the other five at once."""
    config = tmp_path / "config.toml"
    numbered = iter(range(1, 100))
    config.write_text(re.sub(f'_env = "{SANDBOX_TOKEN_ENV}"',
                             lambda _: f'_env = "DESK_TOKEN_{next(numbered)}"',
                             sandbox_config_text(f"http://127.0.0.1:{closed_port()}",
                                                 f"sqlite:///{tmp_path / 'desk.db'}")))
    env = {key: value for key, value in os.environ.items() if not key.startswith("DESK_TOKEN")}
    result = run_cli("doctor", "--config", str(config),
                     env={**env, "DESK_TOKEN_1": "set", "DESK_TOKEN_3": "set"})
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert failed == [
        "✗ sandbox-x: environment variables DESK_TOKEN_2 (consumer_key_env), DESK_TOKEN_4 "
        "(access_token_env), DESK_TOKEN_5 (access_token_secret_env) are not set",
        "✗ sandbox-facebook: environment variables DESK_TOKEN_6 (page_token_env), "
        "DESK_TOKEN_7 (app_secret_env) are not set",
    ]


def test_a_busy_sandbox_port_is_one_usage_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        result = run_cli("sandbox", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr == (f"socialdesk: usage error: cannot listen on 127.0.0.1:{port}: the "
                             "port is in use (another sandbox?); choose another with --port "
                             "(0 picks a free one)\n")
