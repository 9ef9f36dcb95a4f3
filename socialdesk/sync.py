"""One pass over the accounts: pull -> ingest -> guard -> send. Used by `sync`, `run`, the TUI.

Each account is pulled under its lease, so overlapping runs never pull the same account
at once; each page is stored with its cursor and its personal-data marks (by a writer
thread, while the walk fetches the next page: `socialdesk.store.page_writer`), so a crash
mid-walk loses and doubles nothing and leaves nothing unguarded: the guard then takes
every message still `undecided`, whichever pass stored it. One account failing never
stops the others.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from connectors.base import (
    AuthExpired,
    Connector,
    ConnectorError,
    FatalAPIError,
    PullPage,
    RateLimited,
    RateLimitStatus,
    RetriableAPIError,
    WalkIncomplete,
)
from socialdesk.clock import Clock, zone_time
from socialdesk.config import AccountConfig, Settings
from socialdesk.desk.outbox import DispatchReport, dispatch_due
from socialdesk.errors import AccountSyncError, SocialdeskError
from socialdesk.platforms.registry import build_connector
from socialdesk.privacy import detector_settings
from socialdesk.privacy.detect import Detector
from socialdesk.privacy.guard import GuardReport, guard_undecided
from socialdesk.service import pacing
from socialdesk.service.acknowledgement import acknowledge_new
from socialdesk.service.hours import BusinessHours, hours_for
from socialdesk.service.sla import DueClock
from socialdesk.store import lease, quarantine
from socialdesk.store.detection_scan import adopt_fingerprint
from socialdesk.store.ingest import FindSpans, IngestReport, Span, ensure_account, ingest_page
from socialdesk.store.models import Account, Health
from socialdesk.store.page_spans import PageScanner, PrescannedPage
from socialdesk.store.page_writer import store_pages
from socialdesk.store.stream_state import (
    cursor_row,
    record_stream_failure,
    record_stream_success,
)

log = logging.getLogger(__name__)

PageCallback = Callable[[str, str, int], None]
"""Called after each stored page with (account, stream, items on the page), in the thread
that called the sync (the writer's pages are told there, in order)."""


@dataclass
class StreamResult:
    stream: str
    new_messages: int = 0
    duplicates: int = 0
    quarantined: int = 0
    """Items set aside by this pass's walk (kept, listed by `socialdesk quarantine`)."""
    recovered: int = 0
    """Items set aside earlier that this pass could read and stored."""
    error: str | None = None
    skipped_until: datetime | None = None
    rate_limited_until: datetime | None = None
    """Set when the stream waits for a rate-limit reset (skipped now, or limited in this pass)."""
    auth_expired: bool = False
    deferred: str | None = None
    """Why the stream's walk stopped early without failing (a page cap, a rate limit met
    mid-walk): what was read is stored and the next pass resumes from there."""
    warnings: list[str] = field(default_factory=list)
    pages: int = 0
    """Pages stored in this pass: about the requests it cost, for pacing the next one."""
    budget: RateLimitStatus | None = None
    """What the platform's usage headers said after the last page (`socialdesk.service.pacing`)."""

    @property
    def failed(self) -> bool:
        """An error that waiting will not cure: a rate limit is deferred, not failed."""
        return self.error is not None and self.rate_limited_until is None

    @property
    def deferral(self) -> str | None:
        """Why the stream stopped early and resumes later, or None when it did not."""
        if self.failed:
            return None
        if self.rate_limited_until is not None:
            return self.deferred or "rate limited"
        return self.deferred

    @property
    def resumes_at(self) -> datetime | None:
        """When a deferred stream may pull again; None means at the next pass."""
        return self.rate_limited_until


@dataclass
class AccountResult:
    account: str
    streams: list[StreamResult] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None
    """Why nothing was pulled although nothing failed (another process holds the account)."""
    privacy: GuardReport | None = None
    """Public posts with personal data found in this pass, and what the guard did."""
    outbox: DispatchReport | None = None
    """What the outbox sent for this account after the pull (cron sends what is pending)."""

    @property
    def ok(self) -> bool:
        return self.error is None and all(stream.error is None for stream in self.streams)

    @property
    def failed(self) -> bool:
        """Something broke that a later pass will not fix by itself (exit 1)."""
        return self.error is not None or any(stream.failed for stream in self.streams)

    @property
    def deferred(self) -> bool:
        """Something was left for a later pass (exit 75 when nothing failed): a stream
        stopped by a rate limit or a page cap, or the account held by another process."""
        return self.skipped is not None or any(s.deferral for s in self.streams)

    @property
    def new_messages(self) -> int:
        return sum(stream.new_messages for stream in self.streams)

    def failure_reason(self) -> str:
        reasons = [self.error] if self.error else []
        reasons += [f"{s.stream}: {s.error}" for s in self.streams if s.failed]
        return "; ".join(reason for reason in reasons if reason)


@dataclass
class SyncContext:
    """What every account's pass shares."""

    settings: Settings
    engine: Engine
    detector: Detector
    clock: Clock
    owner: str = field(default_factory=lease.new_owner_id)
    on_page: PageCallback | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    @functools.cached_property
    def find_spans(self) -> FindSpans:
        """Ingest's personal-data finder, built once for the whole pass."""
        return spans_finder(self.detector)

    @functools.cached_property
    def scanner(self) -> PageScanner:
        """The finder the walking thread runs on each page before the writer stores it."""
        return PageScanner(self.find_spans, self.detector.reads_context)


def sync_accounts(
    settings: Settings,
    engine: Engine,
    account_names: Iterable[str] | None = None,
    on_page: PageCallback | None = None,
    stop: threading.Event | None = None,
    *,
    clock: Clock,
) -> list[AccountResult]:
    """Pull every named account (all by default) once; one result per account."""
    context = SyncContext(
        settings, engine, detector_for(settings), clock, on_page=on_page,
        stop=stop or threading.Event(),
    )
    names = list(account_names) if account_names else [a.name for a in settings.accounts]
    return [sync_account(context, settings.account(name)) for name in names]


def detector_for(settings: Settings) -> Detector:
    return detector_settings.detector_for(settings.privacy)


def sync_account(
    context: SyncContext,
    config: AccountConfig,
    streams: Iterable[str] | None = None,
) -> AccountResult:
    """Pull the account's streams (all by default) under the account's lease."""
    result = AccountResult(config.name)
    lease_name = f"account:{config.name}"
    if not lease.acquire(context.engine, lease_name, context.owner):
        holder = lease.describe_holder(lease.current_holder(context.engine, lease_name))
        result.skipped = f"another socialdesk process ({holder}) is syncing this account"
        return result
    try:
        account = ensure_account(context.engine, config.name, config.platform, now=context.clock())
        _check_detection_settings(context, account)
        connector = build_connector(config)
        rules = _DueRules(hours_for(context.settings.hours, config),
                          context.settings.sla.first_response_minutes)
        wanted = set(streams) if streams is not None else set(connector.streams)
        for stream in [name for name in connector.streams if name in wanted]:
            if context.stop.is_set():
                break
            result.streams.append(
                _sync_stream(context, account, connector, stream, lease_name, rules)
            )
        _set_health(context.engine, account, result)
        acknowledge_new(context.engine, context.settings, rules.hours,
                        rules.counted_from_opening, context.clock())
        # the outbox first: it recovers actions a crash left `sending`, so the guard can
        # carry on a redirect that was cut short in the middle of a send
        result.outbox = _flush_outbox(context, config)
        result.privacy = _guard_privacy(context, config)
    except AccountSyncError as error:
        result.error = error.message.removeprefix(f"{config.name}: ")
    except SocialdeskError as error:
        result.error = error.message
    finally:
        lease.release(context.engine, lease_name, context.owner)
    return result


def _check_detection_settings(context: SyncContext, account: Account) -> None:
    """Warn when the account's stored spans were found with other detector settings: what
    this pass stores would not agree with them until `socialdesk privacy rescan`."""
    current = detector_settings.settings_fingerprint(context.settings.privacy)
    with Session(context.engine) as session:
        recorded = adopt_fingerprint(session, account.id or 0, current, context.clock())
        session.commit()
    if recorded != current:
        log.warning("%s: %s", account.name, detector_settings.RESCAN_HINT)


def _guard_privacy(context: SyncContext, config: AccountConfig) -> GuardReport:
    """Decide every public post with personal data still undecided, whichever pass stored
    it, and carry on redirects an interrupted pass left queued (privacy guard)."""
    return guard_undecided(context.engine, context.settings, config, now=context.clock)


def _flush_outbox(context: SyncContext, config: AccountConfig) -> DispatchReport:
    """Send the account's due outbox actions, so cron delivers what is pending."""
    report = dispatch_due(context.engine, context.settings, [config.name], now=context.clock)
    for error in report.errors:
        log.warning("outbox: %s", error)
    return report


@dataclass
class _DueRules:
    """What a walk needs to give conversations their first-response due time."""

    hours: BusinessHours
    minutes: int
    due_clock: DueClock = field(init=False)

    def __post_init__(self) -> None:
        self.due_clock = DueClock(self.hours, self.minutes)

    @property
    def counted_from_opening(self) -> set[int]:
        return self.due_clock.counted_from_opening


def _sync_stream(
    context: SyncContext,
    account: Account,
    connector: Connector,
    stream: str,
    lease_name: str,
    rules: _DueRules,
) -> StreamResult:
    result = StreamResult(stream)
    with Session(context.engine, expire_on_commit=False) as session:
        state = cursor_row(session, account, stream)
        _reread_quarantined(context, session, account, connector, stream, result, lease_name,
                            rules)
        if state.rate_limited_until and state.rate_limited_until > context.clock():
            result.skipped_until = result.rate_limited_until = state.rate_limited_until
            return result
        try:
            _walk(context, session, account, connector.pull(stream, state.cursor), result,
                  lease_name, rules)
        except RateLimited as limit:
            result.rate_limited_until = limit.reset_at
            until = zone_time(limit.reset_at, context.settings.desk_zone)
            result.error = f"rate limited until {until}"
            record_stream_failure(session, account, stream, result.error, limit.reset_at,
                                  context.clock())
            return result
        except WalkIncomplete as stop:
            result.deferred = str(stop) or "the walk stopped at its page cap"
            _record_success(session, account, stream, result, context.clock())
            return result
        except (AuthExpired, RetriableAPIError, FatalAPIError, ConnectorError) as error:
            result.error = str(error)
            result.auth_expired = isinstance(error, AuthExpired)
            record_stream_failure(session, account, stream, result.error, None, context.clock())
            return result
        _record_success(session, account, stream, result, context.clock())
    return result


def _walk(
    context: SyncContext,
    session: Session,
    account: Account,
    pages: Iterable[PullPage],
    result: StreamResult,
    lease_name: str,
    rules: _DueRules,
) -> None:
    """Fetch, parse and scan each page in this thread while the writer stores the one before
    (`socialdesk.store.page_writer`); count each stored page, and tell `on_page`, here.
    The walk's own session rests meanwhile, its read transaction ended."""
    session.commit()

    def go_on(page: PullPage) -> bool:
        if page.rate_limit is not None and pacing.budget_spent(page.rate_limit):
            _stop_before_refusal(result, pages, page.rate_limit)
            return False
        return not context.stop.is_set()

    store_pages(context.engine, pages, context.scanner.prescan,
                functools.partial(_store_page, context, account, lease_name, rules),
                functools.partial(_stored, context, account, result), go_on)


def _store_page(
    context: SyncContext,
    account: Account,
    lease_name: str,
    rules: _DueRules,
    session: Session,
    scanned: PrescannedPage,
) -> IngestReport:
    """The writer's work for one page, in its thread and session: no page is stored once
    another process holds the account."""
    if not lease.acquire(context.engine, lease_name, context.owner):
        raise AccountSyncError(account.name, "lost the sync lease to another process")
    return ingest_page(session, account, scanned.page, now=context.clock(),
                       find_spans=scanned.find_spans, due_clock=rules.due_clock)


def _stored(
    context: SyncContext,
    account: Account,
    result: StreamResult,
    stored: list[tuple[PrescannedPage, IngestReport]],
) -> None:
    for scanned, report in stored:
        page = scanned.page
        _count(result, report, page.warnings)
        result.pages += 1
        result.budget = page.rate_limit or result.budget
        if context.on_page:
            context.on_page(account.name, page.stream, len(page.items))


def _stop_before_refusal(
    result: StreamResult, pages: Iterable[PullPage], budget: RateLimitStatus
) -> None:
    """The page's headers say nothing is left: the next request would be a 429, so the walk
    stops here, as after a crash, and resumes from this page's cursor after the reset."""
    result.deferred = result.deferred or "rate-limit budget spent"
    result.rate_limited_until = pacing.spent_until(budget)
    close = getattr(pages, "close", None)
    if close is not None:
        close()


def _reread_quarantined(
    context: SyncContext,
    session: Session,
    account: Account,
    connector: Connector,
    stream: str,
    result: StreamResult,
    lease_name: str,
    rules: _DueRules,
) -> None:
    """Before the walk, store what earlier passes set aside and the connector reads now
    (after an upgrade), exactly as pulled items are stored; count an attempt on the rest.
    Offline, so a stream waiting for its rate limit is re-read too."""
    outcome = quarantine.reread(session, account, connector, stream)
    if outcome.page.items:
        _walk(context, session, account, [outcome.page], result, lease_name, rules)
    quarantine.settle(session, outcome, now=context.clock())
    result.recovered += outcome.recovered


def _count(result: StreamResult, report: IngestReport, warnings: list[str]) -> None:
    result.new_messages += len(report.new_message_ids)
    result.duplicates += report.duplicates
    result.quarantined += report.quarantined
    for warning in warnings:
        log.warning("%s: %s", result.stream, warning)
        result.warnings.append(warning)


def spans_finder(detector: Detector) -> FindSpans:
    """Ingest's personal-data finder: every message pulled is scanned, ours included (an
    agent may have typed it), so reports and lists mask exactly the flagged ones."""

    def find_spans(text: str, context: str | None = None) -> list[Span]:
        return [(entity.start, entity.end, entity.type)
                for entity in detector.scan(text, context)]

    return find_spans


def _record_success(
    session: Session, account: Account, stream: str, result: StreamResult, now: datetime
) -> None:
    """Store the walk's end with the budget the platform's headers left (`service.pacing`)."""
    budget = pacing.to_text(result.budget) if result.budget is not None else None
    record_stream_success(session, account, stream, now=now,
                          rate_limited_until=result.rate_limited_until, rate_budget=budget)


def _set_health(engine: Engine, account: Account, result: AccountResult) -> None:
    """An expired token marks the account unhealthy until a sync succeeds again."""
    expired = [s.error for s in result.streams if s.auth_expired]
    with Session(engine) as session:
        row = session.get(Account, account.id)
        assert row is not None
        if expired:
            row.health, row.health_reason = Health.UNHEALTHY, expired[0]
        elif result.ok:
            row.health, row.health_reason = Health.OK, None
        session.add(row)
        session.commit()
