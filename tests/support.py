"""Helpers shared by the test folders: where ../shared is, and builders for inbound items."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from connectors.base import Channel, Direction, InboundItem, PullPage

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from socialdesk.store.models import Account

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def shared_dir() -> Path:
    """`../shared` beside the repo (or $SOCIALDESK_SHARED); skip without it, fail in CI."""
    path = Path(os.environ.get("SOCIALDESK_SHARED", REPO.parent / "shared"))
    if not (path / "testdata").is_dir():
        message = f"shared test data not found at {path} (set SOCIALDESK_SHARED)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def item(
    external_id: str,
    *,
    channel: Channel = Channel.MENTION,
    thread_key: str | None = None,
    parent: str | None = None,
    author: str | None = "u1",
    direction: Direction = Direction.INBOUND,
    minutes: int = 0,
    text: str = "hello",
    platform: str | None = None,
    raw: dict[str, Any] | None = None,
) -> InboundItem:
    default_platform = "x" if channel in (Channel.MENTION, Channel.DM) else "facebook"
    return InboundItem(
        platform=platform or default_platform,
        external_id=external_id,
        channel=channel,
        direction=direction,
        thread_key=thread_key or external_id,
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
        author_id=author,
        author_handle=f"handle_{author}" if author else None,
        author_name=f"Name {author}" if author else None,
        parent_external_id=parent,
        raw=raw or {"id": external_id},
    )


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    """`socialdesk ARGS` through the installed entry point's code path, as a user or cron
    would run it."""
    return subprocess.run([sys.executable, "-m", "socialdesk", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, env=env)


IDEMPOTENT_WRITES = (".hide",)
"""Sandbox write kinds whose repeat is harmless: `x.hide` and `facebook.hide` (hide and unhide)."""


def writes_sent_twice(actions: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """The platform writes a sandbox performed more than once: the same reply or private
    message, to the same target, with the same body (`GET /__sandbox__/state`).

    Hides are left out: hiding a hidden comment changes nothing, so the outbox sends a hide
    that a crash cut off mid-send again (`ActionKind.idempotent`) rather than asking the
    platform; counting it would make a crash test fail on timing alone."""
    seen: Counter[tuple[str, str, str]] = Counter(
        (action["kind"], action["path"], json.dumps(action["body"], sort_keys=True))
        for action in actions if action["ok"] and not action["kind"].endswith(IDEMPOTENT_WRITES)
    )
    return [write for write, times in seen.items() if times > 1]


def config_on_store(path: Path, store_url: str) -> Path:
    """Point a sandbox config's database at `store_url` (SQLite or PostgreSQL)."""
    lines = [f'url = "{store_url}"' if line.startswith("url = ") else line
             for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored_message_keys(store_url: str) -> Counter[tuple[str, str]]:
    """(platform, external_id) of every stored message, with its count; empty before the
    first sync has made the schema."""
    from sqlalchemy.exc import DBAPIError
    from sqlmodel import Session, select

    from socialdesk.store.db import create_store_engine
    from socialdesk.store.models import Message

    engine = create_store_engine(store_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(Message.platform, Message.external_id)).all()
    except DBAPIError:
        rows = []
    finally:
        engine.dispose()
    return Counter((platform, external_id) for platform, external_id in rows)


def x_desk_holding(
    tmp_path: Path, stream: str, items: list[InboundItem], now: datetime
) -> tuple[Path, Engine, Account]:
    """A config on a fresh SQLite desk whose X account `brand-x` holds `items`, pulled from
    `stream` at `now`; the engine and account are for a test that adds rows of its own."""
    from sqlmodel import Session

    from socialdesk.config import load_settings
    from socialdesk.store.db import open_configured_store
    from socialdesk.store.ingest import ensure_account, ingest_page

    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "desk.db"}"\n')
    engine = open_configured_store(load_settings(path))
    account = ensure_account(engine, "brand-x", "x", now=now)
    with Session(engine) as session:
        ingest_page(session, account, PullPage(stream, items), now=now)
    return path, engine, account
