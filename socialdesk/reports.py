"""CSV reports: streamed from the database, masked by default, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, TextIO

from sqlmodel import Session, col, select

from socialdesk.models import Account, AuditEntry, Message
from socialdesk.privacy.detect import Detector
from socialdesk.privacy.mask import mask_text

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""Cells a spreadsheet would run as formulas (OWASP CSV injection guidance)."""

MESSAGES_COLUMNS = (
    "platform", "account", "channel", "visibility", "external_id", "conversation_id",
    "direction", "author_handle", "created_at", "text", "has_pii",
)
STREAM_BATCH = 1000


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


def safe_cell(value: Any) -> str:
    """Text a spreadsheet shows as text: formula triggers get a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
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
    masker: Callable[[str], str] | None,
    account: str | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Messages oldest first, streamed in batches so memory stays flat over a year of data."""
    statement = (
        select(Message, Account.name)
        .join(Account, col(Account.id) == Message.account_id)
        .order_by(col(Message.created_at), col(Message.id))
        .execution_options(yield_per=STREAM_BATCH)
    )
    if period.since:
        statement = statement.where(Message.created_at >= period.since)
    if period.until:
        statement = statement.where(Message.created_at < period.until)
    if account:
        statement = statement.where(Account.name == account)
    for message, account_name in session.exec(statement):
        text = masker(message.text) if masker else message.text
        yield (
            message.platform, account_name, message.channel, message.visibility,
            message.external_id, message.conversation_id, message.direction,
            message.author_handle, message.created_at, text, message.has_pii,
        )


def text_masker(detector: Detector) -> Callable[[str], str]:
    def mask(text: str) -> str:
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
