"""The generated config and the blocking `serve` loop behind `socialdesk sandbox`."""

from __future__ import annotations

import io
import socket
import struct
import threading
import time
import tomllib
from pathlib import Path

import pytest
import requests

from socialdesk.sandbox import (
    FACEBOOK_PAGE_ID,
    SANDBOX_TOKEN_ENV,
    X_USER_ID,
    SandboxServer,
    sandbox_config_text,
    serve,
    write_config,
)


def test_config_text_is_valid_toml_for_both_accounts() -> None:
    text = sandbox_config_text("http://127.0.0.1:8123", "sqlite:////tmp/x/socialdesk.db")
    config = tomllib.loads(text)
    assert config["database"]["url"] == "sqlite:////tmp/x/socialdesk.db"
    x, facebook = config["accounts"]
    assert (x["platform"], x["user_id"], x["base_url"]) == ("x", X_USER_ID, "http://127.0.0.1:8123")
    assert {x[k] for k in x if k.endswith("_env")} == {SANDBOX_TOKEN_ENV}
    assert (facebook["page_id"], facebook["graph_version"]) == (FACEBOOK_PAGE_ID, "v25.0")
    assert facebook["page_token_env"] == SANDBOX_TOKEN_ENV
    assert f"accepts any value in {SANDBOX_TOKEN_ENV}" in text


def test_write_config_puts_the_database_beside_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path / "conf" / "socialdesk.toml", "http://127.0.0.1:9")
    config = tomllib.loads(path.read_text())
    assert config["database"]["url"] == f"sqlite:///{tmp_path / 'conf' / 'socialdesk.db'}"
    assert config["database"]["url"].startswith("sqlite:////")


def test_serve_announces_url_and_token_then_stops_cleanly(tmp_path: Path) -> None:
    out, stop = io.StringIO(), threading.Event()
    config = tmp_path / "sandbox.toml"
    thread = threading.Thread(
        target=serve, args=(0, 1, True, 5, config, out), kwargs={"stop": stop}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 5
    while "config written" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    first, second, *_ = out.getvalue().splitlines()
    url = first.rsplit(" ", 1)[1]
    assert url.startswith("http://127.0.0.1:") and SANDBOX_TOKEN_ENV in second
    assert tomllib.loads(config.read_text())["accounts"][0]["base_url"] == url
    state = requests.get(f"{url}/__sandbox__/state", timeout=5).json()
    assert (
        len(
            [
                i
                for i in state["items"]
                if i["direction"] == "inbound" and i.get("event_type") != "ParticipantsJoin"
            ]
        )
        == 5
    )
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_client_that_hangs_up_mid_request_prints_no_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with SandboxServer(static=True, messages=2) as server:
        server.start()
        client = socket.create_connection((server.host, server.port))
        client_address = client.getsockname()
        client.sendall(b"GET /2/users/me HTTP/1.1\r\n")  # half a request, then a reset
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        time.sleep(0.3)
        assert requests.get(f"{server.base_url}/__sandbox__/state", timeout=5).ok
    # other tests' servers in this process may print; only this client's request counts
    assert f"request from {client_address}" not in capfd.readouterr().err
