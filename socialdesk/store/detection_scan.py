"""Which detector settings found each account's stored spans (`DetectionScan`, migration 0012).

The store keeps the fingerprint only: what it stands for, and how it is computed, is the
privacy package's (`socialdesk.privacy.detector_settings`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from socialdesk.store.bulk import DIALECT_INSERT, dialect_name
from socialdesk.store.models import Account, DetectionScan
from socialdesk.store.tables import core_table

DETECTION_SCAN = core_table(DetectionScan)


def recorded_fingerprints(engine: Engine) -> dict[str, str]:
    """Account name -> the fingerprint its spans were found with; accounts never recorded
    are left out."""
    with Session(engine) as session:
        rows = session.exec(
            select(Account.name, DetectionScan.fingerprint)
            .join(DetectionScan, col(DetectionScan.account_id) == col(Account.id))
        ).all()
    return dict(rows)


def adopt_fingerprint(session: Session, account_id: int, fingerprint: str,
                      now: datetime) -> str:
    """The account's recorded fingerprint; `fingerprint` is recorded first when there is
    none (a new account, or a store from before migration 0012), never over another one."""
    session.connection().execute(
        DIALECT_INSERT[dialect_name(session)](DETECTION_SCAN)
        .values(account_id=account_id, fingerprint=fingerprint, scanned_at=now)
        .on_conflict_do_nothing(index_elements=["account_id"])
    )
    stored = session.exec(
        select(DetectionScan.fingerprint).where(DetectionScan.account_id == account_id)
    ).one()
    return str(stored)


def record_fingerprint(session: Session, account_id: int, fingerprint: str,
                       now: datetime) -> None:
    """Every span of the account was found with `fingerprint`'s settings (after a rescan)."""
    statement = DIALECT_INSERT[dialect_name(session)](DETECTION_SCAN).values(
        account_id=account_id, fingerprint=fingerprint, scanned_at=now)
    session.connection().execute(statement.on_conflict_do_update(
        index_elements=["account_id"],
        set_={"fingerprint": statement.excluded.fingerprint,
              "scanned_at": statement.excluded.scanned_at},
    ))
