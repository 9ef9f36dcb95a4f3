"""The command line: help for every command, one-line errors, init that never overwrites."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from socialdesk.cli import cli
from tests.support import REPO, run_cli


def all_commands() -> list[str]:
    names = []
    for name, command in cli.commands.items():
        if isinstance(command, click.Group):
            names += [f"{name} {sub}" for sub in command.commands]
        else:
            names.append(name)
    return sorted(names)


@pytest.mark.parametrize("command", all_commands())
def test_every_command_has_help_and_is_in_the_readme(command: str) -> None:
    result = run_cli(*command.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert f"socialdesk {command}" in (REPO / "README.md").read_text()


def test_init_writes_a_config_that_loads_and_never_overwrites_it(tmp_path: Path) -> None:
    target = tmp_path / "conf" / "config.toml"
    first = run_cli("init", "--config", str(target))
    assert first.returncode == 0, first.stderr
    assert "[[accounts]]" in target.read_text()
    target.write_text(target.read_text() + "\n# my edits\n")
    second = run_cli("init", "--config", str(target))
    assert second.returncode == 2
    assert "already exists" in second.stderr
    assert target.read_text().endswith("# my edits\n")


def test_init_uses_the_user_config_dir_by_default(isolated_dirs: Path) -> None:
    import os

    result = run_cli("init", env={**os.environ})
    assert result.returncode == 0, result.stderr
    assert (isolated_dirs / "config" / "socialdesk" / "config.toml").exists()


def test_sync_without_a_config_says_what_to_do_in_one_line(tmp_path: Path) -> None:
    result = run_cli("sync", "--config", str(tmp_path / "missing.toml"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "socialdesk init" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_config_fails_with_file_and_key_not_a_traceback() -> None:
    config = REPO / "tests" / "data" / "config" / "unknown_key.toml"
    result = run_cli("sync", "--config", str(config))
    assert result.returncode == 2
    assert str(config) in result.stderr and "page_tokn_env" in result.stderr
    assert "Traceback" not in result.stderr


def test_sync_importing_no_textual() -> None:
    """cron's `socialdesk sync` must not pay for the TUI."""
    code = "import socialdesk.cli, socialdesk.sync, sys; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_privacy_scan_writes_one_json_object_per_input_line() -> None:
    import json

    lines = "chiamatemi al +39 347 123 4567 grazie\nnessun dato qui\n"
    result = run_cli("privacy", "scan", stdin=lines)
    assert result.returncode == 0, result.stderr
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["text"] for o in outputs] == lines.splitlines()
    (phone,) = outputs[0]["entities"]
    assert phone["type"] == "PHONE"
    assert outputs[0]["text"][phone["start"]:phone["end"]] == "+39 347 123 4567"
    assert outputs[1]["entities"] == []


def test_demo_without_a_terminal_prints_the_summary_not_the_tui() -> None:
    """CI and pipes get the summary; `--no-tui` forces it even on a terminal."""
    result = run_cli("demo", "--messages", "5", "--no-tui")
    assert result.returncode == 0, result.stderr
    assert "Newest 20 conversations" in result.stdout
    assert "\x1b[?1049h" not in result.stdout  # the alternate screen a TUI would open


def test_a_file_that_is_not_a_database_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    garbage = tmp_path / "socialdesk.db"
    garbage.write_bytes(b"this is not sqlite" * 100)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{garbage}"\n\n[[accounts]]\n'
                      'name = "brand"\nplatform = "facebook"\npage_id = "1"\n'
                      'page_token_env = "FB_TOKEN"\n')
    result = run_cli("sync", "--config", str(config))
    assert result.returncode == 3
    assert result.stderr.startswith("socialdesk: database error:")
    assert "Traceback" not in result.stderr
