"""Which `socialdesk run` does which scheduled job, when several run on one database.

Every job of `run` (an account's pulls, the SLA check, the outbox pass) belongs to one
worker at a time: a lease row (`store.lease`, database clock) named `job:…`, renewed by
the holder's heartbeat. The other workers' timers still fire and return at once; when the
holder dies, its leases are taken at the others' next fire: at once if it was a process of
the same host (dead, a zombie, a reused pid), after `JOB_LEASE_TTL_SECONDS` if it was on
another host. Workers share the jobs: each takes new ones only up to its share (the
jobs divided by the live workers, each of which keeps a `worker:…` row), and one holding
more than its share hands a job over after running it. A job nobody took for longer than
its interval is taken whatever the share, so workers configured differently never leave
one behind.

A scheduled report is due once per fire time: its `report:…@time` row is taken by one
worker, and once written it becomes a done mark (`lease.mark_done`) that the others see.
"""

from __future__ import annotations

import enum
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from socialdesk.errors import environment_fault
from socialdesk.store import lease

T = TypeVar("T")
log = logging.getLogger("socialdesk.scheduler.leases")

JOB_LEASE_TTL_SECONDS = 30.0
"""A worker on another host silent this long loses its jobs to the others."""
HEARTBEAT_SECONDS = 10.0
"""How often a worker says it is alive and renews the jobs it holds: a third of the TTL, so
one late heartbeat loses nothing."""
DONE_SECONDS = 3 * 86400.0
"""A report fire time's done mark outlives any misfire grace (6 h) by far."""
WORKER_PREFIX = "worker:"
JOB_PREFIX = "job:"
REPORT_PREFIX = "report:"


class Turn(enum.Enum):
    """What `claim` decided for one run of a job."""

    KEPT = "kept"
    """Ours already: run it."""
    TAKEN = "taken"
    """Newly ours (first run, handed over, or taken from a dead worker): run it."""
    NONE = "none"
    """Another live worker's, or more than our share: skip this run."""

    @property
    def mine(self) -> bool:
        return self is not Turn.NONE


class FireClaim(enum.Enum):
    """Who writes a scheduled report for one fire time."""

    MINE = "mine"
    DONE = "done"
    BUSY = "busy"
    """Another live worker is writing it: look again later, in case it dies."""


@dataclass
class JobLeases:
    """One worker's job leases. Thread-safe: the scheduler's pool calls in from many jobs."""

    engine: Engine
    owner: str
    jobs: int
    """How many leased jobs this worker has: its share is `jobs / live workers`."""
    ttl: float = JOB_LEASE_TTL_SECONDS
    held: set[str] = field(default_factory=set)
    _workers: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def heartbeat(self) -> None:
        """Say this worker is alive, renew every job it holds (one statement for all; the
        rows it did not renew are looked at one by one), count the live workers."""
        with self._lock:
            worker = WORKER_PREFIX + self.owner
            renewed = lease.renew(self.engine, [worker, *self.held], self.owner, self.ttl)
            if worker not in renewed:
                lease.acquire(self.engine, worker, self.owner, self.ttl)
            for name in sorted(self.held - renewed):
                if not lease.acquire(self.engine, name, self.owner, self.ttl):
                    self._lost(name)
            self._workers = self._count_workers()
            lease.prune(self.engine, WORKER_PREFIX, 3600.0)
            lease.prune(self.engine, REPORT_PREFIX, 0.0)

    def claim(self, job: str, interval: float) -> Turn:
        """Whether this worker runs `job` now; `interval` is how often it fires here."""
        name = JOB_PREFIX + job
        with self._lock:
            if name in self.held:
                if lease.acquire(self.engine, name, self.owner, self.ttl):
                    return Turn.KEPT
                self._lost(name)
                return Turn.NONE
            if len(self.held) >= self._share(fresh=True) and not self._neglected(name, interval):
                return Turn.NONE
            previous = lease.last_owner(self.engine, name)
            if not lease.acquire(self.engine, name, self.owner, self.ttl):
                return Turn.NONE
            self.held.add(name)
        if previous is not None and previous != self.owner:
            log.info("job %s: taken over from %s, which stopped answering", job,
                     lease.describe_holder(previous))
        return Turn.TAKEN

    def done_with(self, job: str) -> None:
        """After a run: hand the job over when this worker holds more than its share."""
        name = JOB_PREFIX + job
        with self._lock:
            if name in self.held and len(self.held) > self._share(fresh=False):
                lease.release(self.engine, name, self.owner)
                self.held.discard(name)
                log.info("job %s: handed over, %d worker(s) share the jobs", job, self._workers)

    def run_once(
        self, job: str, fire: datetime, work: Callable[[], T]
    ) -> tuple[FireClaim, T | None]:
        """Run `work` for `job`'s fire time `fire` unless another worker ran it or is running
        it; the fire time is marked done when `work` returns, and given back if it raises."""
        name = fire_name(job, fire)
        if not lease.acquire(self.engine, name, self.owner, self.ttl):
            holder = lease.current_holder(self.engine, name) or ""
            done = holder.startswith(lease.DONE_PREFIX)
            return (FireClaim.DONE if done else FireClaim.BUSY), None
        try:
            result = work()
        except BaseException:
            lease.release(self.engine, name, self.owner)
            raise
        lease.mark_done(self.engine, name, self.owner, DONE_SECONDS)
        return FireClaim.MINE, result

    def release_all(self) -> None:
        """A clean stop: the others take the jobs at their next fire instead of after the TTL.
        Best effort: when the store refuses the write (a full disk), the others still take
        the jobs once this process is gone, so the stop goes on."""
        with self._lock:
            try:
                for name in sorted(self.held):
                    lease.release(self.engine, name, self.owner)
                lease.release(self.engine, WORKER_PREFIX + self.owner, self.owner)
            except SQLAlchemyError as error:
                fault = environment_fault(error)
                log.warning("could not hand the jobs over (%s); the other workers take them "
                            "once this one is gone", fault.title if fault else error)
            self.held.clear()

    def _share(self, *, fresh: bool) -> int:
        if fresh:
            self._workers = self._count_workers()
        return math.ceil(self.jobs / max(self._workers, 1))

    def _count_workers(self) -> int:
        owners = set(lease.live_owners(self.engine, WORKER_PREFIX))
        return len(owners | {self.owner})

    def _neglected(self, name: str, interval: float) -> bool:
        """Nobody took the job for longer than a worker with room would have needed."""
        return lease.idle_seconds(self.engine, name) >= max(interval * 1.5, self.ttl)

    def _lost(self, name: str) -> None:
        self.held.discard(name)
        log.warning("job %s: lost its lease to another worker (this one was stalled)",
                    name.removeprefix(JOB_PREFIX))


def fire_name(job: str, fire: datetime) -> str:
    """`report:1@2026-12-07T06:00Z`: the same on every worker whose cron gives this time."""
    return f"{REPORT_PREFIX}{job}@{fire.astimezone(UTC):%Y-%m-%dT%H:%MZ}"


def last_fire(trigger: BaseTrigger, now: datetime, window: timedelta) -> datetime | None:
    """The trigger's latest fire time in (now - window, now], or None: the run under way
    belongs to it (APScheduler does not tell a job which fire time it serves)."""
    fire = trigger.get_next_fire_time(None, now - window)
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last
