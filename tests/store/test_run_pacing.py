"""A restarted `run` keeps the pace the stored headers set, instead of polling at once."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine
from sqlmodel import Session

from connectors.base import RateLimitStatus
from socialdesk.config import settings_from_mapping
from socialdesk.sandbox import sandbox_config_text
from socialdesk.scheduler import DeskScheduler, job_id
from socialdesk.service import pacing
from socialdesk.store.ingest import ensure_account
from socialdesk.store.models import SyncCursor

NOW = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)


def store_state(store: Engine, stream: str, budget: RateLimitStatus, succeeded: datetime) -> None:
    account = ensure_account(store, "sandbox-x", "x", now=NOW)
    with Session(store) as session:
        session.add(SyncCursor(account_id=account.id or 0, stream=stream,
                               last_success_at=succeeded, rate_budget=pacing.to_text(budget)))
        session.commit()


def first_runs(store: Engine) -> dict[str, datetime]:
    settings = settings_from_mapping(
        tomllib.loads(sandbox_config_text("http://127.0.0.1:9", "sqlite://")), source="test")
    desk = DeskScheduler(settings, store, scheduler=BackgroundScheduler(timezone=UTC),
                         now=lambda: NOW)
    assert desk.scheduler is not None
    runs = {}
    for stream in ("mentions", "dms"):
        job = desk.scheduler.get_job(job_id("sandbox-x", stream))
        assert job is not None
        runs[stream] = job.next_run_time
    return runs


def test_the_stored_budget_delays_the_first_poll_after_a_restart(store: Engine) -> None:
    """2 mention lookups left until 10:10, the last pull at 09:59: one every 5.5 minutes,
    so the first poll of this run is at 10:04:30, not at once (the DMs, with no stored
    headers, start at once)."""
    budget = RateLimitStatus(limit=300, remaining=2, reset_at=NOW + timedelta(minutes=10))
    store_state(store, "mentions", budget, NOW - timedelta(minutes=1))
    runs = first_runs(store)
    assert runs["mentions"] == NOW + timedelta(minutes=4, seconds=30)
    assert runs["dms"] == NOW


def test_a_budget_whose_window_has_turned_does_not_delay(store: Engine) -> None:
    budget = RateLimitStatus(limit=300, remaining=0, reset_at=NOW - timedelta(minutes=1))
    store_state(store, "mentions", budget, NOW - timedelta(minutes=3))
    assert first_runs(store)["mentions"] == NOW
