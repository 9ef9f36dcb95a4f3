"""`run`'s scheduler with adaptive polling against live customers and tight budgets: streams
are polled faster than their slowest interval while customers write, everything is
stored, and the sandbox never has to refuse a request (issue 16 point 3)."""

from __future__ import annotations

import time
from datetime import UTC
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import Session, select

from socialdesk.config import load_settings
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.state import X_USER_ID
from socialdesk.scheduler import JOB_DEFAULTS, DeskScheduler
from socialdesk.store.db import open_store
from socialdesk.store.models import Message

WINDOW = 20
"""Every emulated window (X's 15 minutes, Graph's hour) shortened to 20 s."""
TIGHT = {"x.dm_events": 5, "x.mentions": 12, "facebook": 40}
"""Per 20 s: DMs at 2 s would spend 5 in 10 s and meet a 429 for the other 10."""
POLLS = {"x": ("{ mentions = 2, dms = 2 }", "{ mentions = 8, dms = 8 }"),
         "facebook": ("{ feed = 2, messenger = 2 }", "{ feed = 8, messenger = 8 }")}
LIVE_SECONDS = 30


def adaptive_config(server: SandboxServer, folder: Path) -> Path:
    path = write_config(folder / "config.toml", server.base_url)
    text = path.read_text(encoding="utf-8")
    for platform, (fast, slow) in POLLS.items():
        text = text.replace(f'platform = "{platform}"\n', f'platform = "{platform}"\n'
                            f"fast_poll_seconds = {fast}\npoll_seconds = {slow}\n")
    path.write_text(text, encoding="utf-8")
    return path


def test_adaptive_run_keeps_up_with_live_customers_without_a_single_429(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SANDBOX_TOKEN_ENV, f"{X_USER_ID}-adaptive")
    with SandboxServer(seed=9, static=True, messages=40, rate_limits=TIGHT,
                       rate_window=WINDOW) as server:
        settings = load_settings(adaptive_config(server, tmp_path))
        engine = open_store(settings.database.effective_url)
        desk = DeskScheduler(settings, engine, scheduler=BackgroundScheduler(
            timezone=UTC, job_defaults=JOB_DEFAULTS))
        assert desk.scheduler is not None
        desk.scheduler.start()
        server.start_live(0.5)
        time.sleep(LIVE_SECONDS)
        server.stop_live()
        live = customer_items(server)
        deadline = time.monotonic() + 3 * WINDOW
        while time.monotonic() < deadline and not live <= stored(engine):
            time.sleep(1)
        desk.stop.set()
        desk.scheduler.shutdown(wait=True)
        counts = server.traffic.counts()
        missing = live - stored(engine)
        engine.dispose()
    assert sum(c.refused for c in counts.values()) == 0, counts
    assert not missing, f"{len(missing)} live items never stored: {sorted(missing)}"
    mentions = counts["x.mentions"].requests
    assert mentions > LIVE_SECONDS / 8 + 2, "customers writing: faster than the slowest 8 s"
    assert counts["x.dm_events"].requests <= TIGHT["x.dm_events"] * (
        (LIVE_SECONDS + 3 * WINDOW) // WINDOW + 2)


def customer_items(server: SandboxServer) -> set[tuple[str, str]]:
    """The live items that are messages (not a group DM's join event, which has no text)."""
    arrived = server.traffic.arrivals()
    return {key for item in server.state()["items"]
            if (key := (item["platform"], item["id"])) in arrived
            and item.get("event_type", "MessageCreate") == "MessageCreate"}


def stored(engine: object) -> set[tuple[str, str]]:
    with Session(engine) as session:  # type: ignore[call-overload]
        return {(platform, external) for platform, external in
                session.exec(select(Message.platform, Message.external_id))}
