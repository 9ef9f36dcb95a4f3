"""`socialdesk run`: keeps the queue fresh in the foreground, one job per account and stream.

Each stream keeps its own tempo (`pacing.StreamTempo`): polled fast while customers write
in it, slower while it is quiet, and never sooner than the usage headers allow. A job's
interval trigger runs at the slowest interval; each pull sets its own next run.

APScheduler 3.x with an in-memory job store: jobs are built from config at start, so
nothing stale is resurrected and nothing reloads silently. Cursors, rate-limit resets and
errors live in our tables, and every pull takes the account's lease row, so a cron
`socialdesk sync` and `run` never pull the same account at once. The built-in job
defaults are traps (1 s of misfire grace drops delayed runs), so all are set here.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    SchedulerEvent,
)
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
from socialdesk.errors import ConfigError, environment_fault
from socialdesk.logs import stamp_logs_in
from socialdesk.reports.schedule import run_scheduled_report
from socialdesk.run_lines import describe, log_quarantine, overdue_summary
from socialdesk.service import pacing
from socialdesk.service.hours import hours_for
from socialdesk.service.sla import fill_missing_due_times, overdue_conversations
from socialdesk.store.db import open_configured_store, refresh_statistics
from socialdesk.store.models import SyncCursor
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
RESET_MARGIN = timedelta(seconds=2)
"""Poll this long after a rate-limit reset, so the platform's window has surely turned."""
DISPATCH_SECONDS = 15
"""The outbox sends at once when an operator answers; this pass retries what failed with a
retriable error and recovers actions a crash left `sending`."""
DISPATCH_BATCH = 20
"""Actions per pass, so a stop never waits long for the dispatcher."""
REPORT_MISFIRE_SECONDS = 6 * 3600
"""A report due while the machine slept is still written when it wakes, once."""


class _NoTracebackForFaults(logging.Filter):
    """APScheduler logs each failed job with its traceback, at every attempt. A full disk or
    a read-only store is not a bug: `_job_trouble` says it in one line, so its traceback is
    dropped here; a real bug keeps it."""

    def filter(self, record: logging.LogRecord) -> bool:
        failure = record.exc_info[1] if record.exc_info else None
        return failure is None or environment_fault(failure) is None


NO_TRACEBACK_FOR_FAULTS = _NoTracebackForFaults()


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
    _told_failures: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    """Each job's failure as last logged in full, and when: one that comes back every pass
    (X refusing DMs for the app's permission, every 3 minutes) is told once, then named."""

    def __post_init__(self) -> None:
        self.context = SyncContext(self.settings, self.engine, detector_for(self.settings),
                                   self.now, stop=self.stop)
        jobs = sum(len(a.poll_seconds) for a in self.settings.accounts)
        self.scheduler = self.scheduler or BlockingScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(max_workers=jobs + 2)},
            job_defaults=JOB_DEFAULTS,
            timezone=UTC,
        )
        self.scheduler.add_listener(
            self._job_trouble, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
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
                first = _first_run(states.get((account.name, stream)),
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
        """One stream of one account; the account's streams take turns inside this process."""
        if self.stop.is_set():
            return
        started = time.monotonic()
        with self._account_locks[account.name]:
            if self.stop.is_set():
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
            self._postpone(job, wait_until + RESET_MARGIN)
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
        start and whenever the set changes (48 lines on every start told nobody more)."""
        if self.stop.is_set():
            return []
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
        """Send the outbox actions that are due (retries, and any queued without a send)."""
        if self.stop.is_set():
            return
        report = dispatch_due(self.engine, self.settings, now=self.now, limit=DISPATCH_BATCH)
        for error in report.errors:
            log.warning("outbox: %s", error)
        if report.actions:
            states = ", ".join(f"{a.id} {a.state}" for a in report.actions)
            log.info("outbox: %d action(s) processed (%s)", len(report.actions), states)

    def write_report(self, entry: ScheduledReport) -> None:
        if self.stop.is_set():
            return
        target, rows = run_scheduled_report(self.engine, self.settings, entry, self.now())
        log.info("report %s: %d row(s) written to %s", entry.kind, rows, target)

    def _job_trouble(self, event: SchedulerEvent) -> None:
        if isinstance(event, JobExecutionEvent) and event.exception is not None:
            fault = environment_fault(event.exception)
            log.error("job %s failed: %s", event.job_id,
                      f"{fault.title}: {fault.message}" if fault else event.exception)
        elif event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its run time (the process was busy or asleep)",
                        getattr(event, "job_id", "?"))
        else:
            log.warning("job %s is still running; this run was skipped",
                        getattr(event, "job_id", "?"))

    def run_forever(self) -> None:
        """Block until SIGTERM or SIGINT; then let running pulls finish their page and exit."""
        assert self.scheduler is not None
        with _stop_on_signals(self.shutdown):
            log.info("socialdesk run: %d job(s); stop with Ctrl-C or SIGTERM",
                     len(self.scheduler.get_jobs()))
            self.scheduler.start()
            self._wait_for_pulls()
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


def _first_run(state: SyncCursor | None, interval: timedelta, start: datetime) -> datetime:
    """At start, unless the stream waits for a reset, or the pace the stored headers of its
    last pull set (from when it succeeded) is not over yet."""
    if state is None:
        return start
    first = start
    if state.rate_limited_until is not None:
        first = max(first, state.rate_limited_until + RESET_MARGIN)
    budget = pacing.from_text(state.rate_budget)
    if budget is not None and state.last_success_at is not None:
        paced = pacing.next_poll(budget, 1, interval, state.last_success_at)
        first = max(first, paced or first)
    return first


@contextmanager
def _stop_on_signals(stop: Callable[[str], None]) -> Iterator[None]:
    def handle(signum: int, _frame: FrameType | None) -> None:
        stop(signal.Signals(signum).name)

    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, handle)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


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
