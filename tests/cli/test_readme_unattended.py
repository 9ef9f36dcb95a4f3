"""The README's cron line and systemd unit, run as written on a fresh account.

cron and systemd start a command with an almost empty environment: the token variables a
shell profile exports never reach it, and a `2>>` into a folder nobody made fails before
socialdesk starts. These tests copy the README's blocks, give the command the environment
cron(8) and systemd.exec(5) give it, the tokens in the file the config names, and the
command where `pipx install` puts it.
"""

from __future__ import annotations

import configparser
import re
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from tests.integration.test_sync_sandbox import sandbox_keys, stored_keys

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_blocks(section: str, language: str) -> list[str]:
    """The fenced `language` blocks of the README section headed `section`, as written."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"{section}\n")
    depth = len(section.split()[0])
    following = re.compile(rf"^#{{1,{depth}}} ", re.MULTILINE).search(text, start + len(section))
    body = text[start:following.start() if following else None]
    return re.findall(rf"^```{language}\n(.*?)^```$", body, flags=re.MULTILINE | re.DOTALL)


def cron_environment(home: Path) -> dict[str, str]:
    """What Debian's cron gives a job: no TZ, no tokens, a two-folder PATH."""
    return {"HOME": str(home), "LOGNAME": "desk", "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"}


def systemd_environment(home: Path) -> dict[str, str]:
    """What systemd gives a service with `User=desk` (systemd.exec(5), "Environment")."""
    return {"HOME": str(home), "USER": "desk", "LOGNAME": "desk", "SHELL": "/bin/sh",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"}


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=5, static=True, messages=40) as server:
        server.start()
        yield server


@pytest.fixture
def home(tmp_path: Path, sandbox: SandboxServer) -> Path:
    """A fresh account set up by the README's steps: the tokens file made by its shell
    block, the config naming it by its TOML block, socialdesk where pipx puts it."""
    home = tmp_path / "desk"
    home.mkdir()
    (setup,) = readme_blocks("### From cron", "sh")
    subprocess.run(["/bin/sh", "-c", setup], env=cron_environment(home), check=True)
    tokens = home / ".config/socialdesk/tokens.env"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    with tokens.open("a", encoding="utf-8") as handle:
        handle.write(f"{SANDBOX_TOKEN_ENV}=from-the-tokens-file\n")
    config = write_config(home / ".config/socialdesk/config.toml", sandbox.base_url)
    (secrets,) = readme_blocks("### From cron", "toml")
    config.write_text(secrets + config.read_text(encoding="utf-8"), encoding="utf-8")
    bin_dir = home / ".local/bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "socialdesk").symlink_to(Path(sys.executable).parent / "socialdesk")
    return home


def test_the_cron_line_syncs_from_an_empty_environment_and_mails_nothing(
    home: Path, sandbox: SandboxServer
) -> None:
    (crontab,) = readme_blocks("### From cron", "cron")
    command = crontab.strip().split(None, 5)[5]
    result = subprocess.run(["/bin/sh", "-c", command], env=cron_environment(home),
                            capture_output=True, text=True, timeout=180)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    config = home / ".config/socialdesk/config.toml"
    assert set(stored_keys(config)) == sandbox_keys(sandbox)

    (home / ".config/socialdesk/tokens.env").write_text("", encoding="utf-8")
    failed = subprocess.run(["/bin/sh", "-c", command], env=cron_environment(home),
                            capture_output=True, text=True, timeout=180)
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert f"{SANDBOX_TOKEN_ENV} (bearer_token_env)" in failed.stderr
    assert f"(nor in {home / '.config/socialdesk/tokens.env'})" in failed.stderr


def test_doctor_says_the_tokens_come_from_the_file(home: Path) -> None:
    config = home / ".config/socialdesk/config.toml"
    result = subprocess.run([str(home / ".local/bin/socialdesk"), "doctor"],
                            env=cron_environment(home), capture_output=True, text=True,
                            timeout=120)
    assert (f"✓ tokens: variables the environment lacks are read from "
            f"{config.parent / 'tokens.env'} ([secrets] tokens_file): 1 of 1 from the file"
            ) in result.stdout
    assert "✓ private files: the config, the tokens and the database are yours alone" \
        in result.stdout


def test_the_systemd_unit_runs_from_its_environment_and_stops_on_its_signal(
    home: Path, sandbox: SandboxServer
) -> None:
    (unit_text,) = readme_blocks("## Running unattended", "ini")
    unit = configparser.ConfigParser(interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(unit_text)
    service = unit["Service"]
    assert service["User"] == "desk"
    command = shlex.split(service["ExecStart"].replace("/home/desk", str(home)))
    process = subprocess.Popen(command, env=systemd_environment(home), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    config = home / ".config/socialdesk/config.toml"
    try:
        deadline = time.monotonic() + 120
        while _stored_so_far(config) != sandbox_keys(sandbox):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "run did not store the sandbox's messages"
            time.sleep(0.5)
    finally:
        process.send_signal(getattr(signal, service["KillSignal"]))
        _, stderr = process.communicate(timeout=int(service["TimeoutStopSec"]))
    assert process.returncode == 0, stderr
    stamps = re.findall(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\S+) INFO ", stderr, re.MULTILINE)
    assert stamps and set(stamps) <= {"CET", "CEST"}, stderr
    runs = re.findall(r"; next run \d\d:\d\d:\d\d (\S+)", stderr)  # and inside the lines
    assert runs and set(runs) <= {"CET", "CEST"}, stderr


def _stored_so_far(config: Path) -> set[tuple[str, str]]:
    """The messages `run` has stored; none before its first pull has made the tables."""
    try:
        return set(stored_keys(config))
    except OperationalError:
        return set()
