"""Starts the desk from a config file: the body of `socialdesk tui`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialdesk.config import OperatorSettings, Settings, load_settings
from socialdesk.errors import UsageError
from socialdesk.store.db import open_configured_store
from socialdesk.tui.app import make_app
from socialdesk.tui.context import Desk, Operator, SavedReply

if TYPE_CHECKING:
    from sqlalchemy import Engine


def desk_from_settings(settings: Settings, engine: Engine, initials: str | None = None,
                       background_sync: Callable[[], Any] | None = None) -> Desk:
    """The desk for `settings`; `initials` (from `--as`) wins over `[operator] initials`."""
    return Desk(
        engine=engine,
        operator=session_operator(settings.operator, initials),
        saved_replies=[SavedReply(r.name, r.language, r.text) for r in settings.saved_replies],
        background_sync=background_sync,
        settings=settings,
        keymap=dict(settings.tui.keymap),
        theme=settings.tui.theme,
        zone=settings.desk_zone,
    )


def session_operator(configured: OperatorSettings, initials: str | None) -> Operator:
    """Who signs this session, by the rule `reply` and `outbox retry` use too."""
    operator = configured.for_session(initials)
    return Operator(operator.initials, operator.name)


def open_desk(desk: Desk) -> None:
    """Run the TUI until the operator quits; refused without a terminal on both ends, where
    Textual would spin writing escape codes to a pipe (85 % CPU, nothing shown)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the desk needs a terminal, and stdin or stdout is not one; from "
                         "cron or a script, run `socialdesk sync` or `socialdesk report`")
    make_app(desk).run()


def run_tui(config_path: Path, initials: str | None) -> int:
    settings = load_settings(config_path)
    engine = open_configured_store(settings)
    try:
        open_desk(desk_from_settings(settings, engine, initials))
    finally:
        engine.dispose()
    return 0
