"""Find the personal data of every stored message again, after the detector settings changed.

Spans are found once, at ingest, and read by the desk, the reports and the guard; this is
the one way to bring them in line with new `[privacy]` settings (`socialdesk privacy
rescan`). Decisions already taken stay: a message the guard decided stays decided, with
its privacy record, even if it no longer holds personal data (nothing done on the platform
is undone). A customer's public message that now holds personal data and was never looked
at becomes `undecided`, so the next guard pass sees it; an undecided one that no longer
holds any leaves the guard's list (there is nothing left to decide).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, Engine, and_, bindparam, case, func, null, select, update
from sqlmodel import Session

from connectors.base import Direction, Visibility
from socialdesk.clock import Clock
from socialdesk.config import Settings
from socialdesk.privacy.detect import Detector
from socialdesk.privacy.detector_settings import detector_for, settings_fingerprint
from socialdesk.store.detection_scan import record_fingerprint, recorded_fingerprints
from socialdesk.store.models import PrivacyState
from socialdesk.store.tables import ACCOUNT, MESSAGE

RESCAN_BATCH = 1000
"""Messages read, scanned and written per transaction: memory stays flat, and a rescan
cut short keeps what it wrote (running it again finishes the job)."""


@dataclass
class RescanReport:
    """What a rescan changed, in counts (never values)."""

    accounts: list[str] = field(default_factory=list)
    scanned: int = 0
    changed: int = 0
    """Messages whose spans, types or flag differ from what was stored."""
    now_with_personal_data: int = 0
    no_longer_with_personal_data: int = 0
    now_undecided: int = 0
    """Customers' public messages that now wait for the privacy guard."""
    no_longer_undecided: int = 0
    """Undecided ones that no longer hold personal data: nothing left for the guard."""


def stale_accounts(engine: Engine, settings: Settings) -> list[str]:
    """Configured accounts whose stored spans were found with other detector settings."""
    current = settings_fingerprint(settings.privacy)
    recorded = recorded_fingerprints(engine)
    return [account.name for account in settings.accounts
            if recorded.get(account.name, current) != current]


def messages_to_rescan(engine: Engine, account_names: Iterable[str]) -> int:
    """How many stored messages the accounts have: the progress bar's total."""
    with Session(engine) as session:
        return int(session.connection().execute(
            select(func.count()).select_from(MESSAGE)
            .join(ACCOUNT, ACCOUNT.c.id == MESSAGE.c.account_id)
            .where(ACCOUNT.c.name.in_(list(account_names)))
        ).scalar_one())


def rescan_store(
    engine: Engine,
    settings: Settings,
    account_names: Iterable[str],
    *,
    now: Clock,
    on_batch: Callable[[int], None] | None = None,
) -> RescanReport:
    """Scan every stored message of the accounts again with the configured detector, write
    what changed, then record the settings' fingerprint for each account."""
    detector = detector_for(settings.privacy)
    fingerprint = settings_fingerprint(settings.privacy)
    report = RescanReport()
    for name in account_names:
        account_id = _account_id(engine, name)
        if account_id is None:
            continue  # configured, never synced: nothing stored
        report.accounts.append(name)
        after = 0
        while True:
            with Session(engine) as session:
                rows = _batch(session, account_id, after)
                changes = [change for row in rows
                           if (change := _change(row, detector, report)) is not None]
                if changes:
                    session.connection().execute(_UPDATE, changes)
                session.commit()
            report.scanned += len(rows)
            if on_batch is not None and rows:
                on_batch(len(rows))
            if len(rows) < RESCAN_BATCH:
                break
            after = rows[-1].id
        with Session(engine) as session:
            record_fingerprint(session, account_id, fingerprint, now())
            session.commit()
    return report


def _account_id(engine: Engine, name: str) -> int | None:
    with Session(engine) as session:
        found = session.connection().execute(
            select(ACCOUNT.c.id).where(ACCOUNT.c.name == name)).scalar_one_or_none()
    return None if found is None else int(found)


def _batch(session: Session, account_id: int, after: int) -> list[Any]:
    message = MESSAGE.c
    return list(session.connection().execute(
        select(message.id, message.text, message.direction, message.visibility,
               message.has_pii, message.pii_types, message.pii_spans, message.privacy_state,
               _brand_before(message).label("brand_said"))
        .where(message.account_id == account_id, message.id > after)
        .order_by(message.id)
        .limit(RESCAN_BATCH)
    ).all())


def _brand_before(message: Any) -> Any:
    """Our newest message in the thread before this one, the context ingest gives the
    detector (`store.message_rows.brand_last_said`): read per row, through the
    conversation-and-time index, only for a customer's message."""
    prior = MESSAGE.alias("prior").c
    said = (select(prior.text)
            .where(prior.conversation_id == message.conversation_id,
                   prior.direction == Direction.OUTBOUND.value,
                   prior.created_at < message.created_at)
            .order_by(prior.created_at.desc()).limit(1).scalar_subquery())
    return case((message.direction == Direction.INBOUND.value, said), else_=null())


def _change(row: Any, detector: Detector, report: RescanReport) -> dict[str, Any] | None:
    """The update for one message, or None when the detector finds what is stored; counts
    it in `report`."""
    entities = detector.scan(row.text, row.brand_said)
    spans: list[list[Any]] = [[entity.start, entity.end, entity.type] for entity in entities]
    stored = [list(span) for span in row.pii_spans] if row.pii_spans else []
    if spans == stored and bool(spans) == bool(row.has_pii):
        return None
    report.changed += 1
    exposed = (row.direction == Direction.INBOUND.value
               and row.visibility == Visibility.PUBLIC.value)
    undecide = bool(spans) and exposed and row.privacy_state is None
    clear = not spans and row.privacy_state == PrivacyState.UNDECIDED
    report.now_with_personal_data += bool(spans) and not row.has_pii
    report.no_longer_with_personal_data += not spans and bool(row.has_pii)
    report.now_undecided += undecide
    report.no_longer_undecided += clear
    return {
        "b_id": row.id, "b_has_pii": bool(spans),
        "b_types": ",".join(sorted({entity.type for entity in entities})) or None,
        "b_spans": spans or None, "b_undecide": undecide, "b_clear": clear,
    }


_STATE = MESSAGE.c.privacy_state
_UPDATE = (
    update(MESSAGE)
    .where(MESSAGE.c.id == bindparam("b_id"))
    .values(
        has_pii=bindparam("b_has_pii", type_=Boolean),
        pii_types=bindparam("b_types"),
        pii_spans=case((bindparam("b_has_pii", type_=Boolean),
                        bindparam("b_spans", type_=MESSAGE.c.pii_spans.type)),
                       else_=null()),  # SQL NULL, not a JSON `null`, as ingest stores it
        # in SQL, so a decision the guard takes meanwhile is never overwritten
        privacy_state=case(
            (and_(bindparam("b_undecide", type_=Boolean), _STATE.is_(None)),
             PrivacyState.UNDECIDED.value),
            (and_(bindparam("b_clear", type_=Boolean), _STATE == PrivacyState.UNDECIDED.value),
             null()),
            else_=_STATE,
        ),
    )
)
