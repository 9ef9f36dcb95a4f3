"""`socialdesk doctor` on the Facebook side: the permissions it names and the app's access
level (Standard Access reads only people with a role on the app)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config

TOKEN = "sandbox-secret-doctor"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=2, static=True, messages=10) as server:
        server.start()
        yield server


@pytest.fixture
def config_path(sandbox: SandboxServer, tmp_path: Path) -> Path:
    return write_config(tmp_path / "config.toml", sandbox.base_url)


def access_line(config_path: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "socialdesk", "doctor", "--config", str(config_path)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN})
    lines = [line for line in result.stdout.splitlines() if "access level" in line]
    assert len(lines) == 1, result.stdout + result.stderr
    assert TOKEN not in result.stdout + result.stderr
    return lines[0]


def test_doctor_says_the_app_has_advanced_access(config_path: Path) -> None:
    assert access_line(config_path) == (
        "✓ sandbox-facebook access level: app 'Emporio Lumen Desk' has Advanced Access")


def test_doctor_warns_when_the_app_has_only_standard_access(
    sandbox: SandboxServer, config_path: Path
) -> None:
    del sandbox.graph.app_review["pages_messaging"]
    sandbox.graph.app_review["pages_read_user_content"] = "disabled"
    line = access_line(config_path)
    assert line.startswith("! sandbox-facebook access level: app 'Emporio Lumen Desk' has only "
                           "Standard Access for pages_messaging, pages_read_user_content")
    assert "only people with a role on the app" in line


def test_doctor_without_the_app_secret_says_it_cannot_tell(config_path: Path) -> None:
    config_path.write_text("\n".join(
        line for line in config_path.read_text().splitlines()
        if not line.startswith("app_secret_env")) + "\n")
    line = access_line(config_path)
    assert line.startswith("! sandbox-facebook access level: cannot tell whether app")
    assert "set app_secret_env" in line
