"""What `socialdesk run` logs: one line per pull, one per change of the SLA picture."""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

from socialdesk.clock import zone_time
from socialdesk.sync import AccountResult

log = logging.getLogger("socialdesk.scheduler")
"""The scheduler's logger: `run`'s lines keep the name users grep for."""


def log_quarantine(result: AccountResult, stream: str) -> None:
    """One line per pass, not per item: how many were set aside, how many recovered."""
    outcome = result.streams[0] if result.streams else None
    if outcome is not None and (outcome.quarantined or outcome.recovered):
        log.warning("%s/%s: %d item(s) set aside this pass, %d recovered from earlier passes "
                    "(`socialdesk quarantine` lists the waiting ones)",
                    result.account, stream, outcome.quarantined, outcome.recovered)


def describe(result: AccountResult, zone: tzinfo, now: datetime) -> str:
    """What one pull did, its times on the desk's clock (`zone`), named."""
    if result.skipped:
        return f"skipped ({result.skipped})"
    if result.error:
        return f"failed: {result.error}"
    if not result.streams:
        return "stopped before pulling"
    outcome = result.streams[0]
    if outcome.skipped_until:
        return f"rate limited until {zone_time(outcome.skipped_until, zone, now)}, skipped"
    if outcome.failed:
        return f"failed: {outcome.error}"
    done = f"+{outcome.new_messages} new, {outcome.duplicates} already stored"
    if outcome.deferral is None:
        return done
    until = f" until {zone_time(outcome.resumes_at, zone)}" if outcome.resumes_at else ""
    return f"{done}; {outcome.deferral}{until}, deferred"


def overdue_summary(conversation_ids: frozenset[int]) -> str:
    """"3 conversations past their SLA: #12, #40, #41", lowest number first."""
    numbers = ", ".join(f"#{number}" for number in sorted(conversation_ids))
    if len(conversation_ids) == 1:
        return f"1 conversation past its SLA: {numbers}"
    return f"{len(conversation_ids)} conversations past their SLA: {numbers}"
