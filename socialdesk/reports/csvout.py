"""CSV reports: streamed from the database, masked by default, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TextIO

from sqlalchemy import Table, select
from sqlmodel import Session

from socialdesk.models import Account, AuditEntry, Message
from socialdesk.privacy.detect import Detector
from socialdesk.privacy.mask import mask_stored_spans, mask_text

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""Cells a spreadsheet would run as formulas (OWASP CSV injection guidance)."""

MESSAGES_COLUMNS = (
    "platform", "account", "channel", "visibility", "external_id", "conversation_id",
    "direction", "author_handle", "created_at", "text", "has_pii",
)
STREAM_BATCH = 1000
MESSAGE: Table = Message.__table__  # type: ignore[attr-defined]
ACCOUNT: Table = Account.__table__  # type: ignore[attr-defined]
MESSAGE_REPORT_COLUMNS = (
    MESSAGE.c.platform, ACCOUNT.c.name, MESSAGE.c.channel, MESSAGE.c.visibility,
    MESSAGE.c.external_id, MESSAGE.c.conversation_id, MESSAGE.c.direction,
    MESSAGE.c.author_handle, MESSAGE.c.created_at, MESSAGE.c.text, MESSAGE.c.has_pii,
    MESSAGE.c.pii_spans,
)
"""In the order of MESSAGES_COLUMNS, then the stored spans used for masking."""

Masker = Callable[[str, Any], str]
"""(text, spans stored at ingest or None) -> masked text."""


class ExcelItalian(csv.excel):
    """`;`-separated, as spreadsheets in Italian locales expect."""

    delimiter = ";"


@dataclass(frozen=True)
class ReportPeriod:
    """Half-open [since, until) in UTC; either end may be open."""

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def from_local_dates(cls, since: date | None, until: date | None) -> ReportPeriod:
        """Dates are the user's local days; `until` includes its whole day."""
        return cls(
            since=_local_midnight_utc(since) if since else None,
            until=_local_midnight_utc(date.fromordinal(until.toordinal() + 1)) if until else None,
        )


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time()).astimezone().astimezone(UTC)


def safe_cell(value: Any) -> Any:
    """What a spreadsheet shows as text: formula triggers get a leading apostrophe.

    Strings are checked first (most cells); numbers pass through for csv to format.
    """
    kind = type(value)
    if kind is str:
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    if value is None or kind is int or kind is float:
        return value
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def write_csv(
    out: TextIO, header: Iterable[str], rows: Iterable[Iterable[Any]], excel: bool = False
) -> int:
    """Write header and rows; returns the number of data rows. BOM only for --excel."""
    if excel:
        out.write("\ufeff")
    writer = csv.writer(out, dialect=ExcelItalian if excel else csv.excel)
    writer.writerow(list(header))
    count = 0
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        count += 1
    return count


def message_rows(
    session: Session,
    period: ReportPeriod,
    masker: Masker | None,
    account: str | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Messages oldest first, streamed in batches so memory stays flat over a year of data.

    Core rows, not ORM objects (2.3x faster, PLATFORMS.md), and the raw payload is never
    read. Only messages flagged at ingest are scanned again for masking.
    """
    statement = (
        select(*MESSAGE_REPORT_COLUMNS)
        .join(ACCOUNT, ACCOUNT.c.id == MESSAGE.c.account_id)
        .order_by(MESSAGE.c.created_at, MESSAGE.c.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    if period.since:
        statement = statement.where(MESSAGE.c.created_at >= period.since)
    if period.until:
        statement = statement.where(MESSAGE.c.created_at < period.until)
    if account:
        statement = statement.where(ACCOUNT.c.name == account)
    for row in session.connection().execute(statement):
        if masker and row[10]:
            yield (*row[:9], masker(row[9], row[11]), True)
        else:
            yield tuple(row[:11])


def text_masker(detector: Detector) -> Masker:
    """Masks with the spans found at ingest; scans again only a row stored without them."""

    def mask(text: str, spans: Any) -> str:
        if spans is not None:
            return mask_stored_spans(text, spans)
        entities = detector.scan(text)
        return mask_text(text, entities) if entities else text

    return mask


def audit_unmask(session: Session, actor: str, kind: str, period: ReportPeriod) -> None:
    """Unmasked exports are reveals: each one is recorded with who and when."""
    session.add(
        AuditEntry(
            actor=actor,
            action="report.unmask",
            target_type="report",
            target_id=kind,
            detail={
                "since": period.since.isoformat() if period.since else None,
                "until": period.until.isoformat() if period.until else None,
            },
        )
    )
    session.commit()
