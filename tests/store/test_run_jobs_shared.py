"""Two `run` workers on one store (two DeskSchedulers, as two processes would be): the SLA
check and the outbox pass run in one of them, a scheduled report is written once per fire
time, and a clean stop hands the jobs over at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from connectors.base import Channel
from socialdesk.config import Settings, settings_from_mapping
from socialdesk.scheduler import DeskScheduler
from tests.store.test_sla import conversation, store_page
from tests.support import T0, item

NOW = T0 + timedelta(hours=2)
ACCOUNT = {"name": "brand-x", "platform": "x", "user_id": "1", "bearer_token_env": "A",
           "consumer_key_env": "A", "consumer_secret_env": "A", "access_token_env": "A",
           "access_token_secret_env": "A"}


def settings_with_report(tmp_path: Path) -> Settings:
    return settings_from_mapping({
        "accounts": [ACCOUNT],
        "reports": {"schedule": [{"cron": "0 7 * * mon", "kind": "messages",
                                  "output": str(tmp_path / "weekly-{since}-{kind}.csv")}]},
    }, source=str(tmp_path / "c.toml"))


def worker(settings: Settings, store: Engine) -> DeskScheduler:
    return DeskScheduler(settings, store, now=lambda: NOW,
                         scheduler=BackgroundScheduler(timezone=UTC))


def test_the_sla_check_runs_in_one_worker_and_moves_on_a_clean_stop(
    store: Engine, tmp_path: Path
) -> None:
    store_page(store, item("d1", channel=Channel.DM, thread_key="t", minutes=0))
    overdue = [conversation(store, "t").id]
    settings = settings_with_report(tmp_path)
    first, second = worker(settings, store), worker(settings, store)
    assert first.check_sla() == overdue
    assert second.check_sla() == [], "the other worker holds the SLA check"
    assert first.check_sla() == overdue
    first.leases.release_all()  # what `run_forever` does after a SIGTERM
    assert second.check_sla() == overdue


def test_a_scheduled_report_is_written_once_per_fire_time_by_two_workers(
    store: Engine, tmp_path: Path
) -> None:
    settings = settings_with_report(tmp_path)
    first, second = worker(settings, store), worker(settings, store)
    entry = settings.reports.schedule[0]
    monday = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    written = tmp_path / "weekly-2026-11-30-messages.csv"
    first.write_report(entry, monday)
    assert written.exists()
    written.unlink()
    second.write_report(entry, monday)
    first.write_report(entry, monday)
    assert not written.exists(), "the same fire time written twice"
    second.write_report(entry, monday + timedelta(days=7))
    assert (tmp_path / "weekly-2026-12-07-messages.csv").exists()
