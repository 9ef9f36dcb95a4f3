"""Starts the desk from a config file: the body of `socialdesk tui`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialdesk.config import Settings, load_settings
from socialdesk.db import open_store
from socialdesk.privacy.detect import Detector
from socialdesk.tui.app import make_app
from socialdesk.tui.context import Desk, Operator, SavedReply

if TYPE_CHECKING:
    from sqlalchemy import Engine


def desk_from_settings(settings: Settings, engine: Engine, initials: str | None = None,
                       background_sync: Callable[[], Any] | None = None) -> Desk:
    """The desk for `settings`; `initials` (from `--as`) wins over `[operator] initials`."""
    privacy = settings.privacy
    return Desk(
        engine=engine,
        operator=Operator(initials or settings.operator.initials, settings.operator.name),
        detector=Detector(regions=privacy.phone_regions, custom_patterns=privacy.patterns,
                          own_numbers=privacy.own_numbers),
        saved_replies=[SavedReply(r.name, r.language, r.text) for r in settings.saved_replies],
        background_sync=background_sync,
        settings=settings,
        keymap=dict(settings.tui.keymap),
    )


def open_desk(desk: Desk) -> None:
    """Run the TUI until the operator quits."""
    make_app(desk).run()


def run_tui(config_path: Path, initials: str | None) -> int:
    settings = load_settings(config_path)
    engine = open_store(settings.database.effective_url)
    try:
        open_desk(desk_from_settings(settings, engine, initials))
    finally:
        engine.dispose()
    return 0
