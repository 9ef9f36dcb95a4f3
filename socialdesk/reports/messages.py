"""The `messages` report: one row per message, in the columns of the public contract."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from socialdesk.models import Account, Message
from socialdesk.privacy.detect import Detector
from socialdesk.privacy.mask import mask_stored_spans, mask_text
from socialdesk.reports.csvout import ReportPeriod

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

def message_rows(
    session: Session,
    period: ReportPeriod,
    masker: Masker | None,
    account: str | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Messages oldest first, streamed in batches so memory stays flat over a year of data.

    Core rows, not ORM objects (2.3x faster, PLATFORMS.md), and the raw payload is never
    read. Flagged messages are masked with the spans stored at ingest.
    """
    statement = (
        select(*MESSAGE_REPORT_COLUMNS)
        .join(ACCOUNT, ACCOUNT.c.id == MESSAGE.c.account_id)
        .order_by(MESSAGE.c.created_at, MESSAGE.c.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    statement = period.narrow(statement, MESSAGE.c.created_at, ACCOUNT.c.name, account)
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
