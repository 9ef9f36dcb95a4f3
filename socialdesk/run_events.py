"""How `socialdesk run` tells of its jobs' trouble, and stops on SIGTERM or SIGINT.

Kept apart from the scheduler, whose module is about which job runs when.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent, SchedulerEvent

from socialdesk.errors import environment_fault

log = logging.getLogger("socialdesk.scheduler")


class _NoTracebackForFaults(logging.Filter):
    """APScheduler logs each failed job with its traceback, at every attempt. A full disk or
    a read-only store is not a bug: `job_trouble` says it in one line, so its traceback is
    dropped here; a real bug keeps it."""

    def filter(self, record: logging.LogRecord) -> bool:
        failure = record.exc_info[1] if record.exc_info else None
        return failure is None or environment_fault(failure) is None


NO_TRACEBACK_FOR_FAULTS = _NoTracebackForFaults()


def job_trouble(event: SchedulerEvent) -> None:
    """One line for a failed, missed or skipped run."""
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


@contextmanager
def stop_on_signals(stop: Callable[[str], None]) -> Iterator[None]:
    """Call `stop` with the signal's name on SIGTERM or SIGINT; the old handlers after."""
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
