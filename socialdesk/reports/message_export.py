"""The `messages` report: one row per message, in the columns of the public contract."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import String, case, func, select, type_coerce
from sqlmodel import Session

from connectors.base import Direction
from socialdesk.privacy.detect import Detector
from socialdesk.privacy.mask import mask_stored_spans, mask_text
from socialdesk.reports.csvout import (
    FORMULA_TRIGGERS,
    ReportPeriod,
    csv_flag,
    csv_text,
    csv_time,
)
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
_TEXT = MESSAGES_COLUMNS.index("text")
_FLAG = MESSAGES_COLUMNS.index("has_pii")
_SPANS = len(MESSAGES_COLUMNS)


def message_report_columns(dialect_name: str, guarded: bool = True) -> tuple[Any, ...]:
    """In the order of MESSAGES_COLUMNS, then the stored spans used for masking. Times and
    flags come as their CSV text, and with `guarded` the cells from outside come
    formula-safe (`csv_text`), all computed by the database: SQLAlchemy's result processing
    and a check per cell in Python cost more than writing the CSV (benchmarks/reports.py).
    The text of a message with personal data comes as stored, to be masked first."""

    def outside(column: Any) -> Any:
        return csv_text(column) if guarded else column

    text: Any = MESSAGE.c.text
    if guarded:
        text = case((MESSAGE.c.has_pii, text), else_=csv_text(text)).label("text")
    return (
        MESSAGE.c.platform, outside(ACCOUNT.c.name), MESSAGE.c.channel, MESSAGE.c.visibility,
        outside(MESSAGE.c.external_id), MESSAGE.c.conversation_id, MESSAGE.c.direction,
        outside(_author()), csv_time(MESSAGE.c.created_at, dialect_name), text,
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


def message_batches(
    session: Session,
    period: ReportPeriod,
    masker: Masker | None,
    account: str | None = None,
    guarded: bool = True,
) -> Iterator[list[Sequence[Any]]]:
    """Messages oldest first, in lists of up to `STREAM_BATCH` rows in MESSAGES_COLUMNS,
    each ready for `csv.writer.writerows` (with `guarded`; without it, the text as stored,
    for a writer whose cells are never formulas). Memory stays flat over a year of data.

    On SQLite the rows come straight from the driver's cursor (plain tuples, no result
    processing); only a row with personal data is touched in Python, to mask it with the
    spans stored at ingest. The raw payload is never read."""
    dialect_name = session.get_bind().dialect.name
    statement = (
        select(*message_report_columns(dialect_name, guarded))
        .join(ACCOUNT, ACCOUNT.c.id == MESSAGE.c.account_id)
        .order_by(MESSAGE.c.created_at, MESSAGE.c.id)
    )
    statement = period.narrow(statement, MESSAGE.c.created_at, ACCOUNT.c.name, account)
    flagged = _flagged_row(masker, guarded)
    for batch in _fetched(session, statement, dialect_name):
        yield [row[:_SPANS] if row[_FLAG] == "false" else flagged(row) for row in batch]


def _fetched(session: Session, statement: Any, dialect_name: str) -> Iterator[Sequence[Any]]:
    """The statement's rows in lists. SQLite's cursor steps through the result as it is
    read (SQLAlchemy's default strategy reads nothing ahead, so the driver's own cursor is
    read from the first row); elsewhere a server-side cursor, in partitions."""
    connection = session.connection()
    if dialect_name == "sqlite":
        result = connection.execute(statement)
        cursor = result.cursor
        try:
            while batch := cursor.fetchmany(STREAM_BATCH):
                yield batch
        finally:
            result.close()
        return
    streamed = connection.execution_options(stream_results=True, yield_per=STREAM_BATCH)
    yield from streamed.execute(statement).partitions()


def _flagged_row(masker: Masker | None, guarded: bool
                 ) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A row with personal data, masked (unless `--unmask`), then made formula-safe."""

    def finish(row: Sequence[Any]) -> tuple[Any, ...]:
        text = row[_TEXT] if masker is None else masker(row[_TEXT], row[_SPANS])
        if guarded and text.startswith(FORMULA_TRIGGERS):
            text = "'" + text
        return (*row[:_TEXT], text, "true")

    return finish


def message_rows(
    session: Session,
    period: ReportPeriod,
    masker: Masker | None,
    account: str | None = None,
) -> Iterator[Sequence[Any]]:
    """`message_batches` one row at a time."""
    for batch in message_batches(session, period, masker, account):
        yield from batch


@functools.lru_cache(maxsize=4096)
def _decoded(spans: str) -> Any:
    """Stored spans, decoded once per distinct text: `[[start, end, type], …]` over texts of
    a few hundred characters repeat often (the same offsets and type), and decoding JSON per
    flagged row was a quarter of a masked export's own time (benchmarks/reports.py)."""
    decoded = json.loads(spans)  # `null` for a row flagged before spans were kept
    return None if decoded is None else tuple(tuple(span) for span in decoded)


def text_masker(detector: Detector) -> Masker:
    """Masks with the spans found at ingest; scans again only a row stored without them.
    Only rows flagged at ingest reach it, so only their spans are decoded."""

    def mask(text: str, spans: Any) -> str:
        if spans.__class__ is str:  # psycopg decodes JSON itself and hands over the list
            spans = _decoded(spans)
        if spans is not None:
            return mask_stored_spans(text, spans)
        entities = detector.scan(text)
        return mask_text(text, entities) if entities else text

    return mask
