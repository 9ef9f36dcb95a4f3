"""`socialdesk tui`: the config and `--as` decide who signs the session."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from socialdesk.cli import main
from socialdesk.config import settings_from_mapping
from socialdesk.tui import launch
from socialdesk.tui.app import make_app
from socialdesk.tui.context import Desk, Operator
from tests.support import run_cli
from tests.tui.desk_fixture import NOW, settle

OPERATOR = {"initials": "AB", "name": "Alex Bruno"}
SAVED_REPLY = {"name": "thanks", "text": "Thanks {name}, we are on it. {agent}"}


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "desk.db"}"\n\n'
                    '[operator]\ninitials = "AB"\nname = "Alex Bruno"\n', encoding="utf-8")
    return path


def test_as_with_initials_the_config_refuses_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("tui", "--config", str(write_config(tmp_path)), "--as", "Alex Bruno")
    assert result.returncode == 2
    assert "usage error: --as 'Alex Bruno'" in result.stderr
    assert "Traceback" not in result.stderr


def test_as_other_initials_do_not_take_the_configured_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Desk] = []
    monkeypatch.setattr(launch, "open_desk", opened.append)
    config = str(write_config(tmp_path))
    for initials in ("ZZ", "AB", None):
        with pytest.raises(SystemExit) as exit_:
            main(["tui", "--config", config, *(["--as", initials] if initials else [])])
        assert exit_.value.code == 0
    assert [desk.operator for desk in opened] == [
        Operator("ZZ"), Operator("AB", "Alex Bruno"), Operator("AB", "Alex Bruno")]


@pytest.mark.parametrize(("initials", "signed"), [("ZZ", "ZZ"), (None, "Alex Bruno")])
async def test_saved_reply_signs_agent_as_the_session_operator(
    desk_store: Engine, initials: str | None, signed: str
) -> None:
    settings = settings_from_mapping({"operator": OPERATOR, "saved_replies": [SAVED_REPLY]},
                                     "test")
    desk = launch.desk_from_settings(settings, desk_store, initials)
    desk.clock, desk.poll_seconds = (lambda: NOW), 0
    app = make_app(desk)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "r", "tab")
        await settle(pilot)
        first = str(app.screen.query_one("#saved").get_option_at_index(0).prompt)  # type: ignore[attr-defined]
        assert first.endswith(f"we are on it. {signed}")


def test_tui_without_a_terminal_is_refused_at_once(tmp_path: Path) -> None:
    """Under cron or a pipe, the desk would spin writing escape codes; it says why and stops."""
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "socialdesk", "tui", "--config",
                             str(write_config(tmp_path))], stdin=subprocess.PIPE,
                            capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "usage error: the desk needs a terminal" in result.stderr
