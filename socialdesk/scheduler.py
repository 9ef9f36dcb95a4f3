"""`socialdesk run`: keeps the queue fresh in the foreground, one job per account and stream.

Each stream keeps its own tempo (`pacing.StreamTempo`): polled fast while customers write
in it, slower while it is quiet, and never sooner than the usage headers allow. A job's
interval trigger runs at the slowest interval; each pull sets its own next run.

APScheduler 3.x with an in-memory job store: jobs are built from config at start, so
nothing stale is resurrected and nothing reloads silently. Cursors, rate-limit resets and
errors live in our tables, and every pull takes the account's lease row, so a cron
`socialdesk sync` and `run` never pull the same account at once. Several `run` workers on
one database share the jobs through job leases (`service.job_leases`): each job runs in
one worker at a time, and a dead worker's jobs are taken over. The built-in job
defaults are traps (1 s of misfire grace drops delayed runs), so all are set here.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from tzlocal import get_localzone

from connectors.base import RateLimitStatus
from socialdesk.clock import Clock, system_clock, zone_time
from socialdesk.config import AccountConfig, ScheduledReport, Settings, load_settings
from socialdesk.desk.outbox import dispatch_due
from socialdesk.errors import ConfigError
from socialdesk.logs import stamp_logs_in
from socialdesk.reports.schedule import run_scheduled_report
from socialdesk.run_events import NO_TRACEBACK_FOR_FAULTS, job_trouble, stop_on_signals
from socialdesk.run_lines import describe, log_quarantine, overdue_summary
from socialdesk.service import pacing
from socialdesk.service.hours import hours_for
from socialdesk.service.job_leases import HEARTBEAT_SECONDS, FireClaim, JobLeases, Turn, last_fire
from socialdesk.service.sla import fill_missing_due_times, overdue_conversations
from socialdesk.store.db import open_configured_store, refresh_statistics
from socialdesk.store.stream_state import stream_states
from socialdesk.sync import (
    AccountResult,
    StreamResult,
    SyncContext,
    detector_for,
    sync_account,
)

log = logging.getLogger(__name__)

JITTER_SHARE = 0.1
"""Each interval gets up to 10 % of random delay, so accounts drift apart (PLATFORMS.md)."""
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
"""Explicit: APScheduler's own misfire grace of 1 s drops runs delayed by a busy pool."""
DISPATCH_SECONDS = 15
"""The outbox sends at once when an operator answers; this pass retries what failed with a
retriable error and recovers actions a crash left `sending`."""
DISPATCH_BATCH = 20
"""Actions per pass, so a stop never waits long for the dispatcher."""
REPORT_MISFIRE_SECONDS = 6 * 3600
"""A report due while the machine slept is still written when it wakes, once."""


@dataclass
class DeskScheduler:
    """The jobs of one `socialdesk run`: a pull per account and stream, and the SLA check."""

    settings: Settings
    engine: Engine
    stop: threading.Event = field(default_factory=threading.Event)
    scheduler: BaseScheduler | None = None
    now: Clock = system_clock
    _account_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _reported_overdue: frozenset[int] = frozenset()
    """The conversations past their SLA at the last check, so the log speaks only on a change."""
    _account_wait: dict[str, datetime] = field(default_factory=dict)
    """Until when an account's shared quota (Graph's usage percentages) is spent."""
    _times_spent: dict[tuple[str, str], int] = field(default_factory=dict)
    """Passes in a row that ended with the stream's budget spent (for the unknown-reset wait)."""
    _budgets: dict[tuple[str, str], RateLimitStatus] = field(default_factory=dict)
    """Each stream's budget after its last pull, to measure what the next one cost."""
    _tempos: dict[tuple[str, str], pacing.StreamTempo] = field(default_factory=dict)
    """Each adaptive stream's tempo: how soon it wants its next poll."""
    _unchecked: set[tuple[str, str]] = field(default_factory=set)
    """Streams taken from another worker whose stored reset and pace are still to be read."""
    _told_failures: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    """Each job's failure as last logged in full, and when: one that comes back every pass
    (X refusing DMs for the app's permission, every 3 minutes) is told once, then named."""

    def __post_init__(self) -> None:
        self.context = SyncContext(self.settings, self.engine, detector_for(self.settings),
                                   self.now, stop=self.stop)
        jobs = sum(len(a.poll_seconds) for a in self.settings.accounts)
        self.leases = JobLeases(self.engine, self.context.owner, len(self.settings.accounts) + 2)
        self.leases.heartbeat()
        self.scheduler = self.scheduler or BlockingScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=jobs + 4)},
            job_defaults=JOB_DEFAULTS,
            timezone=UTC,
        )
        self.scheduler.add_listener(
            job_trouble, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )
        logging.getLogger("apscheduler.executors.default").addFilter(NO_TRACEBACK_FOR_FAULTS)
        self._add_jobs()

    def _add_jobs(self) -> None:
        assert self.scheduler is not None
        states = stream_states(self.engine)
        start = self.now()
        for account in self.settings.accounts:
            self._account_locks[account.name] = threading.Lock()
            for stream, seconds in account.poll_seconds.items():
                if account.adaptive_polling:
                    self._tempos[(account.name, stream)] = pacing.StreamTempo(
                        timedelta(seconds=account.fast_poll_seconds[stream]),
                        timedelta(seconds=seconds))
                first = pacing.first_poll(states.get((account.name, stream)),
                                          self._interval(account, stream), start)
                self.scheduler.add_job(
                    self.pull, IntervalTrigger(seconds=seconds, jitter=seconds * JITTER_SHARE),
                    args=(account, stream), id=job_id(account.name, stream),
                    name=f"pull {account.name}/{stream}", next_run_time=first,
                )
        self.scheduler.add_job(
            self.check_sla, IntervalTrigger(seconds=self.settings.sla.check_seconds),
            id="sla", name="SLA check", next_run_time=start,
        )
        self.scheduler.add_job(self.leases.heartbeat, IntervalTrigger(seconds=HEARTBEAT_SECONDS),
                               id="heartbeat", name="job leases heartbeat")
        self.scheduler.add_job(
            self.dispatch, IntervalTrigger(seconds=DISPATCH_SECONDS), id="outbox",
            name="outbox dispatch", next_run_time=start,
        )
        for number, entry in enumerate(self.settings.reports.schedule, start=1):
            self.scheduler.add_job(
                self.write_report, CronTrigger.from_crontab(entry.cron, timezone=get_localzone()),
                args=(entry,), id=f"report:{number}", name=f"report {entry.kind} ({entry.cron})",
                misfire_grace_time=REPORT_MISFIRE_SECONDS,
            )

    def pull(self, account: AccountConfig, stream: str) -> None:
        """One stream of one account; the account's streams take turns inside this process,
        and the account's pulls belong to one worker (its job lease)."""
        if self.stop.is_set():
            return
        job = f"pull:{account.name}"
        turn = self.leases.claim(job, max(account.poll_seconds.values()))
        if turn is Turn.TAKEN:
            self._unchecked.update((account.name, name) for name in account.poll_seconds)
        if not turn.mine:
            return
        try:
            self._pull_held(account, stream)
        finally:
            self.leases.done_with(job)

    def _pull_held(self, account: AccountConfig, stream: str) -> None:
        started = time.monotonic()
        with self._account_locks[account.name]:
            if self.stop.is_set() or self._waits_as_stored(account, stream):
                return
            spent_until = self._account_wait.get(account.name)
            if spent_until is not None and spent_until > self.now():
                self._postpone(job_id(account.name, stream), spent_until)
                log.info("%s/%s: the account's quota is spent until %s; next run %s",
                         account.name, stream, self._clock_text(spent_until),
                         self._next_run(job_id(account.name, stream)))
                return
            result = sync_account(self.context, account, streams=(stream,))
        self._after_pull(result, stream, time.monotonic() - started)

    def _waits_as_stored(self, account: AccountConfig, stream: str) -> bool:
        """A stream this worker has just taken waits for the reset or pace its last holder
        stored, as at start; True when postponed."""
        if (account.name, stream) not in self._unchecked:
            return False
        self._unchecked.discard((account.name, stream))
        first = pacing.first_poll(stream_states(self.engine).get((account.name, stream)),
                                  self._interval(account, stream), self.now())
        if first <= self.now():
            return False
        self._postpone(job_id(account.name, stream), first)
        return True

    def _after_pull(self, result: AccountResult, stream: str, seconds: float) -> None:
        job = job_id(result.account, stream)
        log_quarantine(result, stream)
        described = self._told_once(job, describe(result, self.settings.desk_zone, self.now()))
        if self.stop.is_set():
            log.info("%s/%s: %s in %.2f s; stopping", result.account, stream, described, seconds)
            return
        outcome = result.streams[0] if result.streams else None
        self._follow_tempo(result.account, stream, outcome)
        wait_until = outcome.rate_limited_until if outcome else None
        if wait_until is not None:
            self._postpone(job, wait_until + pacing.RESET_MARGIN)
        paced = self._pace(result.account, stream, outcome) if outcome else ""
        log.info("%s/%s: %s in %.2f s; next run %s%s", result.account, stream,
                 described, seconds, self._next_run(job), paced)

    def _follow_tempo(self, account_name: str, stream: str, outcome: StreamResult | None) -> None:
        """Set the next run from the stream's tempo: sooner while customers write in it,
        later while it is quiet. Rate limits and the usage headers may push it later still."""
        tempo = self._tempos.get((account_name, stream))
        if tempo is None:
            return
        now = self.now()
        interval = tempo.after_poll(now, outcome.new_messages if outcome else 0)
        jitter = timedelta(seconds=random.uniform(0, interval.total_seconds() * JITTER_SHARE))
        assert self.scheduler is not None
        if self.scheduler.get_job(job_id(account_name, stream)) is not None:
            self.scheduler.modify_job(job_id(account_name, stream),
                                      next_run_time=now + interval + jitter)

    def _interval(self, account: AccountConfig, stream: str) -> timedelta:
        """The stream's interval now: its tempo's, or the fixed `poll_seconds`."""
        tempo = self._tempos.get((account.name, stream))
        return tempo.current if tempo else timedelta(seconds=account.poll_seconds[stream])

    def _told_once(self, job: str, described: str) -> str:
        """`described`, or, when it is the failure this job last logged, a short line that
        points back to it; any other outcome ends the repeat."""
        if not described.startswith("failed: "):
            self._told_failures.pop(job, None)
            return described
        told = self._told_failures.get(job)
        if told is not None and told[0] == described:
            return f"failed again, as logged at {self._clock_text(told[1])}"
        self._told_failures[job] = (described, self.now())
        return described

    def _pace(self, account_name: str, stream: str, outcome: StreamResult) -> str:
        """Delay the next poll so the budget the headers reported lasts until its reset;
        a Graph quota is the Page's, so it paces every stream of the account. Returns the
        log line's note, empty when the regular interval is within the budget."""
        budget = outcome.budget
        if budget is None:
            return ""
        key = (account_name, stream)
        cost = pacing.next_cost(outcome.pages,
                                pacing.requests_spent(self._budgets.get(key), budget),
                                key in self._tempos, outcome.deferral is not None)
        self._budgets[key] = budget
        spent = pacing.budget_spent(budget)
        self._times_spent[key] = self._times_spent.get(key, 0) + 1 if spent else 0
        account = self.settings.account(account_name)
        streams = list(account.poll_seconds) if budget.percent else [stream]
        now, paced = self.now(), False
        for name in streams:
            # a shared percentage quota doubles the slowest interval, not a busy stream's
            interval = (timedelta(seconds=account.poll_seconds[name]) if budget.percent
                        else self._interval(account, name))
            at = pacing.next_poll(budget, cost if name == stream else 1, interval,
                                  now, max(self._times_spent[key], 1))
            if at is not None:
                self._postpone(job_id(account_name, name), at)
                paced = True
        if spent and budget.percent:
            self._account_wait[account_name] = pacing.spent_until(budget) or (
                now + pacing.unknown_reset_wait(self._times_spent[key]))
        return f" (paced: {pacing.describe(budget, self.settings.desk_zone)})" if paced else ""

    def _postpone(self, job: str, until: datetime) -> None:
        """Move the next run to the reset, so no poll lands in a 429."""
        assert self.scheduler is not None
        current = self.scheduler.get_job(job)
        if current is not None and (current.next_run_time is None
                                    or current.next_run_time < until):
            jitter = timedelta(seconds=random.uniform(0, 1))
            self.scheduler.modify_job(job, next_run_time=until + jitter)

    def _next_run(self, job: str) -> str:
        assert self.scheduler is not None
        current = self.scheduler.get_job(job)
        if current is None or current.next_run_time is None:
            return "none (stopping)"
        return self._clock_text(current.next_run_time)

    def _clock_text(self, moment: datetime) -> str:
        """`moment` for a log line: on the desk's clock, named ("11:15:00 CET")."""
        return zone_time(moment, self.settings.desk_zone, self.now())

    def check_sla(self) -> list[int]:
        """Give due times to conversations that lack one; log those past due in one line, at
        start and whenever the set changes (48 lines on every start told nobody more).
        One worker checks at a time."""
        if self.stop.is_set() or not self.leases.claim("sla", self.settings.sla.check_seconds).mine:
            return []
        try:
            return self._check_sla()
        finally:
            self.leases.done_with("sla")

    def _check_sla(self) -> list[int]:
        hours = {a.name: hours_for(self.settings.hours, a) for a in self.settings.accounts}
        fill_missing_due_times(self.engine, hours, self.settings.sla.first_response_minutes)
        refresh_statistics(self.engine)  # cheap unless the store doubled: keeps plans good
        overdue = [found.id for found in overdue_conversations(self.engine, self.now())]
        current = frozenset(overdue)
        if current != self._reported_overdue:
            if current:
                log.warning("SLA: %s", overdue_summary(current))
            else:
                log.info("SLA: no conversation is past its SLA any more")
            self._reported_overdue = current
        return overdue

    def dispatch(self) -> None:
        """Send the outbox actions that are due (retries, and any queued without a send).
        One worker's pass at a time; each action is claimed on its own besides, so a pull's
        flush or an operator's send never sends it twice either."""
        if self.stop.is_set() or not self.leases.claim("outbox", DISPATCH_SECONDS).mine:
            return
        try:
            report = dispatch_due(self.engine, self.settings, now=self.now, limit=DISPATCH_BATCH)
        finally:
            self.leases.done_with("outbox")
        for error in report.errors:
            log.warning("outbox: %s", error)
        if report.actions:
            states = ", ".join(f"{a.id} {a.state}" for a in report.actions)
            log.info("outbox: %d action(s) processed (%s)", len(report.actions), states)

    def write_report(self, entry: ScheduledReport, fire: datetime | None = None) -> None:
        """Write the report due at its latest fire time (now, when run by hand), for that
        time's period, unless another worker wrote it; while one is writing it, look again
        in case it dies."""
        if self.stop.is_set():
            return
        number = self.settings.reports.schedule.index(entry) + 1
        fire = fire or self._fire_time(number)
        claim, written = self.leases.run_once(str(number), fire, lambda: run_scheduled_report(
            self.engine, self.settings, entry, fire))  # the fire time's period, even if late
        if written is not None:
            log.info("report %s due %s: %d row(s) written to %s", entry.kind,
                     self._clock_text(fire), written[1], written[0])
        elif claim is FireClaim.BUSY:
            assert self.scheduler is not None
            self.scheduler.add_job(self.write_report, "date", args=(entry, fire),
                                   run_date=self.now() + timedelta(seconds=self.leases.ttl),
                                   id=f"report:{number}:again", replace_existing=True,
                                   misfire_grace_time=REPORT_MISFIRE_SECONDS)

    def _fire_time(self, number: int) -> datetime:
        assert self.scheduler is not None
        job = self.scheduler.get_job(f"report:{number}")
        now = self.now()
        window = timedelta(seconds=REPORT_MISFIRE_SECONDS)
        fire = last_fire(job.trigger, now, window) if job else None
        return fire or now.replace(second=0, microsecond=0)

    def run_forever(self) -> None:
        """Block until SIGTERM or SIGINT; then let running pulls finish their page and exit."""
        assert self.scheduler is not None
        with stop_on_signals(self.shutdown):
            log.info("socialdesk run: %d job(s); stop with Ctrl-C or SIGTERM",
                     len(self.scheduler.get_jobs()))
            self.scheduler.start()
            self._wait_for_pulls()
            self.leases.release_all()
        log.info("socialdesk run: stopped")

    def shutdown(self, reason: str = "shutdown") -> None:
        """Ask running pulls to stop after their current page; `run_forever` waits for them.

        Called from a signal handler on the main thread, so it must not wait here: a pull
        finishing meanwhile needs the scheduler's job-store lock that a waiting
        `shutdown(wait=True)` would hold.
        """
        if self.stop.is_set():
            return
        log.info("socialdesk run: %s received, finishing the pages in flight", reason)
        self.stop.set()
        assert self.scheduler is not None
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def _wait_for_pulls(self) -> None:
        """A pull holds its account's lock until its last page is stored."""
        for lock in self._account_locks.values():
            with lock:
                pass


def job_id(account: str, stream: str) -> str:
    return f"pull:{account}:{stream}"


def run_from_config(config_path: Path) -> int:
    """Load config, open the store, run until stopped; 0 after a clean stop."""
    settings = load_settings(config_path)
    if not settings.accounts:
        raise ConfigError(f"{config_path}: accounts: no [[accounts]] configured")
    logging.getLogger(__name__).setLevel(min(logging.INFO, logging.getLogger().level))
    stamp_logs_in(settings.desk_zone)
    engine = open_configured_store(settings)
    try:
        DeskScheduler(settings, engine).run_forever()
    finally:
        engine.dispose()
    return 0
