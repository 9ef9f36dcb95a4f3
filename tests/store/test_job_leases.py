"""Job leases of `socialdesk run`: each job in one worker at a time, shared between the live
workers, taken over from a dead one; a scheduled report once per fire time."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from socialdesk.service.job_leases import FireClaim, JobLeases, Turn, last_fire
from socialdesk.store import lease

JOBS = ["pull:a", "pull:b", "sla", "outbox"]
FIRE = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def worker(store: Engine, host: str = "other-host", pid: int = 1) -> JobLeases:
    """A worker whose id names `host` (another host's workers count as alive until their
    TTL runs out, as the lease module judges them)."""
    leases = JobLeases(store, f"{host}:{pid}:0.00:{pid:08x}", len(JOBS))
    leases.heartbeat()
    return leases


def dead_local_owner() -> str:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return f"{socket.gethostname()}:{gone.stdout.strip()}:0.00:deadbeef"


def test_one_worker_alone_runs_every_job_and_keeps_it(store: Engine) -> None:
    alone = worker(store)
    assert [alone.claim(job, 60) for job in JOBS] == [Turn.TAKEN] * 4
    for job in JOBS:
        alone.done_with(job)
    assert [alone.claim(job, 60) for job in JOBS] == [Turn.KEPT] * 4


def test_a_job_held_by_a_live_worker_is_not_run_by_another(store: Engine) -> None:
    first = worker(store, pid=1)
    assert first.claim("sla", 60) is Turn.TAKEN
    second = worker(store, pid=2)
    assert second.claim("sla", 60) is Turn.NONE
    first.heartbeat()
    assert second.claim("sla", 60) is Turn.NONE


def test_a_second_worker_gets_its_share_from_the_first(store: Engine) -> None:
    first = worker(store, pid=1)
    assert all(first.claim(job, 60).mine for job in JOBS)
    second = worker(store, pid=2)
    first.heartbeat()
    for job in JOBS:
        first.done_with(job)  # holding four of four jobs with two workers: two go back
    assert len(first.held) == 2
    turns = {job: second.claim(job, 60) for job in JOBS}
    assert sorted(t.value for t in turns.values()) == ["none", "none", "taken", "taken"]
    handed = [job for job, turn in turns.items() if turn is Turn.TAKEN]
    assert all(first.claim(job, 60) is Turn.NONE for job in handed), "no ping-pong back"
    assert all(first.claim(job, 60) is Turn.KEPT for job in JOBS if job not in handed)


def test_a_dead_workers_jobs_are_taken_over_at_once_on_its_host(store: Engine) -> None:
    dead = JobLeases(store, dead_local_owner(), len(JOBS))
    dead.heartbeat()
    assert all(dead.claim(job, 60).mine for job in JOBS)
    survivor = JobLeases(store, lease.new_owner_id(), len(JOBS))  # this live process
    survivor.heartbeat()
    assert [survivor.claim(job, 60) for job in JOBS] == [Turn.TAKEN] * 4


def test_another_hosts_worker_is_taken_over_only_when_its_lease_runs_out(store: Engine) -> None:
    remote = worker(store, pid=1)
    remote.ttl = 0.5
    assert remote.claim("sla", 60) is Turn.TAKEN
    here = worker(store, pid=2)
    assert here.claim("sla", 60) is Turn.NONE
    remote.held.clear()  # the remote worker stops renewing: expire its rows
    lease.acquire(store, "job:sla", remote.owner, ttl=-1)
    lease.acquire(store, "worker:" + remote.owner, remote.owner, ttl=-1)
    assert here.claim("sla", 60) is Turn.TAKEN


def test_a_heartbeat_renews_the_jobs_held_and_drops_one_taken_meanwhile(store: Engine) -> None:
    stalled = worker(store, pid=1)
    assert stalled.claim("sla", 60) is Turn.TAKEN
    assert stalled.claim("outbox", 60) is Turn.TAKEN
    lease.acquire(store, "job:sla", stalled.owner, ttl=-1)  # it stalled past its TTL
    other = worker(store, pid=2)
    assert other.claim("sla", 60) is Turn.TAKEN
    stalled.heartbeat()
    assert stalled.held == {"job:outbox"}
    assert lease.current_holder(store, "job:outbox") == stalled.owner
    assert lease.current_holder(store, "job:sla") == other.owner
    assert lease.current_holder(store, "worker:" + stalled.owner) == stalled.owner


def test_a_job_nobody_took_is_taken_whatever_the_share(store: Engine) -> None:
    busy = JobLeases(store, "other-host:1:0.00:1", jobs=1)
    busy.heartbeat()
    assert busy.claim("pull:a", 60) is Turn.TAKEN
    assert busy.claim("pull:b", 60) is Turn.TAKEN, "a job never taken is not left behind"


def test_a_clean_stop_lets_the_others_take_the_jobs_at_once(store: Engine) -> None:
    first = worker(store, pid=1)
    assert first.claim("outbox", 15) is Turn.TAKEN
    second = worker(store, pid=2)
    first.release_all()
    assert second.claim("outbox", 15) is Turn.TAKEN


def test_a_report_fire_time_is_written_by_one_worker_once(store: Engine) -> None:
    first, second = worker(store, pid=1), worker(store, pid=2)
    runs: list[str] = []
    assert first.run_once("1", FIRE, lambda: runs.append("first")) == (FireClaim.MINE, None)
    assert second.run_once("1", FIRE, lambda: runs.append("second"))[0] is FireClaim.DONE
    assert first.run_once("1", FIRE, lambda: runs.append("again"))[0] is FireClaim.DONE
    assert second.run_once("1", FIRE + timedelta(days=1), lambda: runs.append("next day"))[0] \
        is FireClaim.MINE
    assert runs == ["first", "next day"]


def test_a_report_being_written_is_busy_and_a_failed_one_is_written_again(store: Engine) -> None:
    first, second = worker(store, pid=1), worker(store, pid=2)

    def meanwhile() -> None:
        assert second.run_once("1", FIRE, lambda: None)[0] is FireClaim.BUSY
        raise OSError("disk full")

    with pytest.raises(OSError):
        first.run_once("1", FIRE, meanwhile)
    assert second.run_once("1", FIRE, lambda: "written") == (FireClaim.MINE, "written")


def test_a_dead_writers_report_is_taken_over(store: Engine) -> None:
    owner = dead_local_owner()
    assert lease.acquire(store, "report:1@2026-12-07T06:00Z", owner)
    assert worker(store).run_once("1", FIRE, lambda: "written")[0] is FireClaim.MINE


def test_the_fire_time_a_late_report_run_serves() -> None:
    trigger = CronTrigger.from_crontab("0 7 * * mon", timezone=UTC)
    monday = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    window = timedelta(hours=6)
    assert last_fire(trigger, monday + timedelta(minutes=3), window) == monday
    assert last_fire(trigger, monday + timedelta(hours=7), window) is None
    assert last_fire(trigger, monday - timedelta(seconds=1), window) is None
