"""`--config` and `-v` before the command (as the README shows) or after it; `--version`."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialdesk import __version__
from tests.support import run_cli


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_prints_the_version(flag: str) -> None:
    result = run_cli(flag)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"socialdesk, version {__version__}"


@pytest.mark.parametrize("order", ["before", "after"])
def test_config_before_or_after_the_command(tmp_path: Path, order: str) -> None:
    target = tmp_path / "conf" / "config.toml"
    args = (["--config", str(target), "init"] if order == "before"
            else ["init", "--config", str(target)])
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert target.exists()


def test_the_commands_own_config_wins(tmp_path: Path) -> None:
    before, own = tmp_path / "before.toml", tmp_path / "own.toml"
    result = run_cli("--config", str(before), "init", "--config", str(own))
    assert result.returncode == 0, result.stderr
    assert own.exists() and not before.exists()


def test_a_groups_config_reaches_its_subcommand(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    result = run_cli("outbox", "--config", str(missing), "retry", "1", "--as", "AB")
    assert result.returncode == 2
    assert str(missing) in result.stderr


@pytest.mark.parametrize("args", [["-vv", "quarantine", "--config", "{config}"],
                                  ["quarantine", "--config", "{config}", "-vv"],
                                  ["--config", "{config}", "-v", "quarantine", "-v"],
                                  ["quarantine", "--config", "{config}"]])
def test_verbose_before_or_after_the_command(tmp_path: Path, args: list[str]) -> None:
    """-vv logs (here the database migrations opening a new store) wherever it is given."""
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "desk.db"}"\n',
                      encoding="utf-8")
    result = run_cli(*[arg.format(config=config) for arg in args])
    assert result.returncode == 0, result.stderr
    assert (" INFO " in result.stderr) == any(arg.startswith("-v") for arg in args)
