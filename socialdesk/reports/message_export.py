"""The `messages` report: one row per message, in the columns of the public contract."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import String, case, func, select, type_coerce
from sqlmodel import Session

from connectors.base import Direction
from socialdesk.privacy.detect import Detector
from socialdesk.privacy.mask import mask_stored_spans, mask_text
from socialdesk.reports.csvout import ReportPeriod, csv_flag, csv_time
from socialdesk.reports.figures import customer_name
from socialdesk.store.tables import ACCOUNT, MESSAGE

MESSAGES_COLUMNS = (
    "platform", "account", "channel", "visibility", "external_id", "conversation_id",
    "direction", "author_handle", "created_at", "text", "has_pii",
)
MESSAGES_TEXT_COLUMNS = tuple(
    MESSAGES_COLUMNS.index(name) for name in ("account", "external_id", "author_handle", "text")
)
"""Cells from outside (config, platform, customer); the others are our own values, the
database's CSV text for times and flags, and numbers."""
STREAM_BATCH = 1000


def message_report_columns(dialect_name: str) -> tuple[Any, ...]:
    """In the order of MESSAGES_COLUMNS, then the stored spans used for masking. Times and
    flags come as their CSV text and the spans as stored JSON text: SQLAlchemy's result
    processing of those three columns cost more than writing the CSV (benchmarks/reports.py).
    """
    return (
        MESSAGE.c.platform, ACCOUNT.c.name, MESSAGE.c.channel, MESSAGE.c.visibility,
        MESSAGE.c.external_id, MESSAGE.c.conversation_id, MESSAGE.c.direction,
        _author(), csv_time(MESSAGE.c.created_at, dialect_name), MESSAGE.c.text,
        csv_flag(MESSAGE.c.has_pii), type_coerce(MESSAGE.c.pii_spans, String),
    )


def _author() -> Any:
    """A customer's message names them as the other reports do (`customer_name`); ours
    keep the handle or name the platform gave, if any."""
    return case(
        (MESSAGE.c.direction == Direction.INBOUND.value,
         customer_name(MESSAGE.c.author_handle, MESSAGE.c.author_name)),
        else_=func.coalesce(MESSAGE.c.author_handle, MESSAGE.c.author_name),
    ).label("author_handle")


Masker = Callable[[str, Any], str]
"""(text, spans stored at ingest as JSON text or decoded, or None) -> masked text."""

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
        select(*message_report_columns(session.get_bind().dialect.name))
        .join(ACCOUNT, ACCOUNT.c.id == MESSAGE.c.account_id)
        .order_by(MESSAGE.c.created_at, MESSAGE.c.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    statement = period.narrow(statement, MESSAGE.c.created_at, ACCOUNT.c.name, account)
    for row in session.connection().execute(statement):
        if masker and row[10] == "true":
            yield (*row[:9], masker(row[9], row[11]), "true")
        else:
            yield tuple(row[:11])


def text_masker(detector: Detector) -> Masker:
    """Masks with the spans found at ingest; scans again only a row stored without them."""

    def mask(text: str, spans: Any) -> str:
        if spans.__class__ is str:  # psycopg decodes JSON itself and hands over the list
            spans = json.loads(spans)  # `null` for a row flagged before spans were kept
        if spans is not None:
            return mask_stored_spans(text, spans)
        entities = detector.scan(text)
        return mask_text(text, entities) if entities else text

    return mask
