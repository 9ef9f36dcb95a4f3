"""Items set aside because they could not be read: kept, listed, and read again each pass.

A connector sets aside what it cannot parse (`QuarantinedItem`) and ingest keeps it, one
row per item, in the page's transaction (`keep_set_aside`). Each pass asks the connector to
read the waiting rows of the stream again (`Connector.reparse`, offline): after an upgrade
they may parse, and then they are ingested like any pulled item (idempotent on
`(platform, external_id)`) and the row is resolved. A row whose item was stored meanwhile
(a later pull brought it whole) is resolved too; what still fails keeps its row with one
more attempt and today's reason.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from connectors.base import Connector, InboundItem, PullPage
from socialdesk.store.bulk import DIALECT_INSERT, chunks, dialect_name, existing
from socialdesk.store.driver import Driver
from socialdesk.store.models import Account, Message, QuarantineEntry
from socialdesk.store.tables import MESSAGE, QUARANTINE

log = logging.getLogger(__name__)

REREAD_BATCH = 500
"""Rows re-read per stream and pass, the longest untried first: a flood of bad items cannot
stall a pass, and every row gets its turn."""


def fingerprint(external_id: str | None, raw: Any) -> str:
    """What makes two set-aside payloads the same item: its platform id, else its body.

    Migration 0010 holds a frozen copy; a test keeps the two equal.
    """
    if external_id:
        return f"id:{external_id}"
    body = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return "raw:" + hashlib.sha256(body.encode()).hexdigest()


def keep_set_aside(session: Session, driver: Driver, account: Account, page: PullPage,
                   now: datetime) -> int:
    """Keep the page's set-aside items, one row per item (`fingerprint`): an item
    set aside again counts one more attempt, with its newest body and reason, and waits
    again. One already stored as a message (a whole copy arrived) adds nothing, and a
    waiting row whose item this page brings whole is resolved. `driver` is the page's
    (ingest's): the resolving UPDATE goes with its other writes (`Driver.later`)."""
    if page.items:
        _resolve_arrived(driver, account, page, now)
    if not page.quarantined:
        return 0
    driver.send_later()  # the resolving UPDATE first: a row set aside again waits again
    stored = {external_id for (external_id,) in existing(
        session, MESSAGE.c.external_id, account.platform,
        sorted({e.external_id for e in page.quarantined if e.external_id}))}
    rows: dict[str, dict[str, Any]] = {}
    for entry in page.quarantined:
        if entry.external_id in stored:
            continue
        key = fingerprint(entry.external_id, dict(entry.raw))
        rows[key] = {"account_id": account.id, "stream": page.stream,
                     "external_id": entry.external_id, "fingerprint": key,
                     "reason": entry.reason, "raw": dict(entry.raw), "received_at": now,
                     "last_attempt_at": now, "attempts": 1, "resolved_at": None}
    if rows:
        session.connection().execute(_quarantine_upsert(dialect_name(session)), list(rows.values()))
    return len(rows)


def _resolve_arrived(driver: Driver, account: Account, page: PullPage, now: datetime) -> None:
    """Resolve the waiting rows whose items this page brings whole: one statement a page,
    on the DBAPI connection like the rest of ingest (`socialdesk.store.driver`)."""
    mark = driver.mark
    for chunk in chunks(sorted({item.external_id for item in page.items})):
        driver.later(
            f"UPDATE quarantine SET resolved_at = {mark} WHERE resolved_at IS NULL "
            f"AND account_id = {mark} AND stream = {mark} "
            f"AND external_id {driver.any_of(len(chunk))}",
            (driver.time(now), account.id, page.stream, *driver.any_values(chunk)),
        )


@functools.cache
def _quarantine_upsert(dialect: str) -> Any:
    statement = DIALECT_INSERT[dialect](QUARANTINE)
    return statement.on_conflict_do_update(
        index_elements=["account_id", "stream", "fingerprint"],
        set_={"reason": statement.excluded.reason, "raw": statement.excluded.raw,
              "external_id": statement.excluded.external_id,
              "last_attempt_at": statement.excluded.last_attempt_at,
              "attempts": QUARANTINE.c.attempts + 1, "resolved_at": None},
    )


@dataclass
class Reread:
    """What re-reading a stream's waiting rows found, before it is stored and settled."""

    page: PullPage
    resolved: list[int] = field(default_factory=list)
    """Rows whose item parses now, was stored meanwhile, or is no message after all."""
    failing: dict[int, str] = field(default_factory=dict)
    """Rows still unreadable, with today's reason."""

    @property
    def recovered(self) -> int:
        return len(self.page.items)


def reread(
    session: Session, account: Account, connector: Connector, stream: str
) -> Reread:
    """Ask the connector to read the stream's waiting rows again; nothing is written."""
    rows = session.exec(
        select(QuarantineEntry)
        .where(QuarantineEntry.account_id == account.id, QuarantineEntry.stream == stream,
               col(QuarantineEntry.resolved_at).is_(None))
        .order_by(col(QuarantineEntry.last_attempt_at), col(QuarantineEntry.id))
        .limit(REREAD_BATCH)
    ).all()
    outcome = Reread(PullPage(stream=stream, items=[]))
    stored = _stored_ids(session, account.platform,
                         [row.external_id for row in rows if row.external_id])
    for row in rows:
        assert row.id is not None
        if row.external_id in stored:
            outcome.resolved.append(row.id)
            continue
        parsed = _reparse(connector, stream, row.raw)
        if isinstance(parsed, InboundItem):
            outcome.page.items.append(parsed)
            outcome.resolved.append(row.id)
        elif parsed is None:
            outcome.resolved.append(row.id)
        else:
            outcome.failing[row.id] = parsed
    return outcome


def _reparse(
    connector: Connector, stream: str, raw: Mapping[str, Any]
) -> InboundItem | str | None:
    """The item, None (no message), or why it still fails. A connector that raises on one
    payload fails that row only: one bad item never stops the others or the pass."""
    try:
        parsed = connector.reparse(stream, raw)
    except Exception as error:  # noqa: BLE001  (a connector bug: kept as the row's reason)
        return f"re-reading failed: {type(error).__name__}: {error}"
    if parsed is None or isinstance(parsed, InboundItem):
        return parsed
    return parsed.reason


def _stored_ids(session: Session, platform: str, external_ids: list[str]) -> set[str]:
    if not external_ids:
        return set()
    return set(session.exec(
        select(Message.external_id)
        .where(Message.platform == platform, col(Message.external_id).in_(external_ids))
    ).all())


def settle(session: Session, outcome: Reread, *, now: datetime) -> None:
    """Resolve the rows whose item is stored (call after ingesting `outcome.page`); count one
    more attempt, with today's reason, on the others."""
    if outcome.resolved:
        session.exec(
            update(QuarantineEntry)
            .where(col(QuarantineEntry.id).in_(outcome.resolved))
            .values(resolved_at=now)
        )
    for row_id, reason in outcome.failing.items():
        session.exec(
            update(QuarantineEntry)
            .where(col(QuarantineEntry.id) == row_id)
            .values(reason=reason, attempts=QuarantineEntry.attempts + 1, last_attempt_at=now)
        )
    session.commit()


@dataclass(frozen=True)
class QuarantineRow:
    """One set-aside item as `socialdesk quarantine` shows it."""

    id: int
    account: str
    stream: str
    external_id: str | None
    reason: str
    received_at: datetime
    last_attempt_at: datetime
    attempts: int
    resolved_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "account": self.account, "stream": self.stream,
            "platform_id": self.external_id, "reason": self.reason,
            "received_at": _iso(self.received_at), "last_attempt_at": _iso(self.last_attempt_at),
            "attempts": self.attempts, "resolved_at": _iso(self.resolved_at),
        }


def list_quarantined(
    engine: Engine, *, include_resolved: bool = False, account: str | None = None
) -> list[QuarantineRow]:
    """The set-aside items, oldest first; only those still waiting unless asked."""
    query = select(Account.name, QuarantineEntry).where(QuarantineEntry.account_id == Account.id)
    if not include_resolved:
        query = query.where(col(QuarantineEntry.resolved_at).is_(None))
    if account is not None:
        query = query.where(Account.name == account)
    with Session(engine) as session:
        found = session.exec(query.order_by(col(QuarantineEntry.id))).all()
    return [
        QuarantineRow(entry.id or 0, name, entry.stream, entry.external_id, entry.reason,
                      entry.received_at, entry.last_attempt_at, entry.attempts,
                      entry.resolved_at)
        for name, entry in found
    ]


def waiting_by_account(engine: Engine) -> dict[str, int]:
    """How many set-aside items wait, by account name (accounts with none are left out)."""
    with Session(engine) as session:
        rows = session.exec(
            select(Account.name, func.count())
            .where(QuarantineEntry.account_id == Account.id,
                   col(QuarantineEntry.resolved_at).is_(None))
            .group_by(Account.name)
        ).all()
    return {name: int(count) for name, count in rows}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None
