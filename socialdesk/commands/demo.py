"""`socialdesk demo`: the whole pipeline on a built-in sandbox and a throwaway database."""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.clock import system_clock
from socialdesk.commands.sync_once import report_sync_results
from socialdesk.config import Settings, settings_from_mapping
from socialdesk.privacy.mask import mask_stored_spans
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, sandbox_config_text
from socialdesk.store.db import open_store
from socialdesk.store.models import Status
from socialdesk.store.queries.overview import (
    counts_by_channel_and_status,
    message_count,
    newest_conversations,
)
from socialdesk.sync import sync_accounts

STATUS_STYLE = {Status.NEW: "red", Status.OPEN: "yellow", Status.RESOLVED: "green"}
"""Red just arrived, yellow being solved, green solved (seed 004)."""


DEMO_SYNC_SECONDS = 5.0
"""How often the demo's desk pulls the live sandbox, so new customers keep arriving."""


def run_demo(seed: int, messages: int, out: TextIO, interactive: bool = False) -> int:
    """Sync the sandbox into a temporary database, then open the desk on it (`interactive`)
    or print what arrived; exit status of the first sync."""
    console = Console(file=out)
    with tempfile.TemporaryDirectory(prefix="socialdesk-demo-") as workdir, SandboxServer(
        seed=seed, static=not interactive, messages=messages
    ) as sandbox:
        base_url = sandbox.start()
        database_url = f"sqlite:///{Path(workdir) / 'demo.db'}"
        settings = settings_from_mapping(
            tomllib.loads(sandbox_config_text(base_url, database_url)), source="demo"
        )
        os.environ.setdefault(SANDBOX_TOKEN_ENV, "demo")
        engine = open_store(database_url)
        console.print(f"Sandbox on {base_url}; syncing {len(settings.accounts)} accounts…")
        status = report_sync_results(sync_accounts(settings, engine, clock=system_clock), out,
                                     system_clock(), settings.desk_zone)
        if interactive:
            _open_desk(settings, engine)
        else:
            with Session(engine) as session:
                _print_summary(console, session)
        engine.dispose()
    return status


def _open_desk(settings: Settings, engine: Engine) -> None:
    """The TUI on the live sandbox, syncing in the background like `socialdesk run` would."""
    from socialdesk.tui.launch import desk_from_settings, open_desk

    def background_sync() -> None:
        sync_accounts(settings, engine, clock=system_clock)

    desk = desk_from_settings(settings, engine, background_sync=background_sync)
    desk.background_seconds = DEMO_SYNC_SECONDS
    open_desk(desk)


def _print_summary(console: Console, session: Session) -> None:
    counts = counts_by_channel_and_status(session)
    by_channel = Table(title=f"{message_count(session)} messages, conversations by channel")
    by_channel.add_column("channel")
    for status, style in STATUS_STYLE.items():
        by_channel.add_column(status, justify="right", style=style)
    for channel in sorted({channel for channel, _ in counts}):
        by_channel.add_row(channel, *(str(counts.get((channel, s), 0)) for s in STATUS_STYLE))
    console.print(by_channel)
    console.print(_newest_table(session))


def _newest_table(session: Session) -> Table:
    table = Table(title="Newest 20 conversations (personal data masked)")
    for column in ("id", "status", "channel", "customer", "last message", "PII"):
        table.add_column(column, overflow="fold")
    for row in newest_conversations(session, limit=20):
        preview = (mask_stored_spans(row.preview, row.preview_spans) if row.preview_spans
                   else row.preview)
        table.add_row(
            str(row.id),
            f"[{STATUS_STYLE.get(row.status, 'white')}]{row.status}[/]",
            row.channel,
            escape(row.customer or "(unknown)"),
            escape(preview[:80]),
            "yes" if row.has_pii else "",
        )
    return table

