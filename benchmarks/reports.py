"""CSV report throughput over a large store, against Python's raw csv.writer in the same run.

    python benchmarks/reports.py [--messages 1000000] [--conversations 200000]

Builds a SQLite store of the real schema (raw sqlite3 executemany after `open_store`), then
times `socialdesk report messages` (the real path: streamed rows, masking, formula-safe cells)
written to a file, beside a raw sqlite3 cursor feeding `csv.writer` with the same rows.
Goal (issue 7): at least 50 % of the raw rate, with memory flat (printed as peak RSS).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session  # noqa: E402

from socialdesk.db import open_store  # noqa: E402
from socialdesk.privacy.detect import Detector  # noqa: E402
from socialdesk.reports import (  # noqa: E402
    MESSAGES_COLUMNS,
    ReportPeriod,
    message_rows,
    text_masker,
    write_csv,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TEXTS = (
    "@brand il mio ordine non è ancora arrivato, potete controllare? grazie mille",
    "Hi, my parcel says delivered but I never got it. Can you help? Thanks",
    "=HYPERLINK(\"http://evil.example\") ciao, problema con la fattura, aiuto",
    "chiamatemi al +39 347 123 4567 per favore, è urgente, sono senza luce",
)
FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def build_store(path: Path, messages: int, conversations: int) -> None:
    """Accounts, conversations and messages straight into the real schema."""
    open_store(f"sqlite:///{path}").dispose()
    db = sqlite3.connect(path)
    now = datetime.now(UTC).strftime(FORMAT)
    with db:
        db.execute("INSERT INTO account (id, name, platform, health, created_at) "
                   "VALUES (1, 'brand-x', 'x', 'ok', ?)", (now,))
        db.executemany(
            "INSERT INTO conversation (id, account_id, channel, visibility, thread_key, status, "
            "created_at, updated_at) VALUES (?, 1, 'mention', 'public', ?, 'new', ?, ?)",
            ((n, str(n), now, now) for n in range(1, conversations + 1)),
        )
        rng = random.Random(1)
        db.executemany(
            "INSERT INTO message (account_id, conversation_id, platform, external_id, channel, "
            "visibility, direction, author_handle, text, created_at, ingested_at, has_pii, "
            "pii_spans, raw) VALUES (1, ?, 'x', ?, 'mention', 'public', ?, ?, ?, ?, ?, ?, ?, ?)",
            _message_rows(rng, messages, conversations, now),
        )
    db.close()


def _message_rows(rng: random.Random, count: int, conversations: int, now: str):  # type: ignore[no-untyped-def]
    """One message in four carries a phone number, with its spans as ingest stores them."""
    detector = Detector()
    spans = [[[e.start, e.end, e.type] for e in detector.scan(text)] for text in TEXTS]
    for number in range(count):
        found = spans[number % len(TEXTS)]
        yield (
            1 + number % conversations, str(10**17 + number),
            "inbound" if number % 3 else "outbound", f"customer{rng.randrange(50_000)}",
            TEXTS[number % len(TEXTS)], (T0 + timedelta(seconds=number * 30)).strftime(FORMAT),
            now, int(bool(found)), json.dumps(found) if found else None,
            json.dumps({"id": str(10**17 + number)}),
        )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_report(path: Path, out: Path) -> tuple[float, int]:
    engine = open_store(f"sqlite:///{path}")
    started = time.perf_counter()
    with Session(engine) as session, open(out, "w", encoding="utf-8", newline="") as handle:
        rows = message_rows(session, ReportPeriod(), text_masker(Detector()))
        count = write_csv(handle, MESSAGES_COLUMNS, rows)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return count / elapsed, count


def measure_raw(path: Path, out: Path) -> float:
    """The same rows, raw: sqlite3 cursor straight into csv.writer, no masking or safety."""
    db = sqlite3.connect(path)
    started = time.perf_counter()
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MESSAGES_COLUMNS)
        cursor = db.execute(
            "SELECT m.platform, a.name, m.channel, m.visibility, m.external_id, "
            "m.conversation_id, m.direction, m.author_handle, m.created_at, m.text, m.has_pii "
            "FROM message m JOIN account a ON a.id = m.account_id ORDER BY m.created_at, m.id"
        )
        count = 0
        while batch := cursor.fetchmany(1000):
            writer.writerows(batch)
            count += len(batch)
    elapsed = time.perf_counter() - started
    db.close()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store.db"
        started = time.perf_counter()
        build_store(store, args.messages, args.conversations)
        print(f"built {args.messages:,} messages in {time.perf_counter() - started:.1f} s")
        rss_before = peak_rss_mb()
        raw_rate = measure_raw(store, Path(folder) / "raw.csv")
        report_rate, count = measure_report(store, Path(folder) / "report.csv")
        size = (Path(folder) / "report.csv").stat().st_size / 2**20
    ratio = report_rate / raw_rate
    print(f"raw sqlite3 + csv.writer: {raw_rate:10,.0f} rows/s")
    print(f"socialdesk report messages: {report_rate:8,.0f} rows/s "
          f"({ratio:.0%} of raw; goal >= 50%), {count:,} rows, {size:.0f} MB")
    print(f"peak RSS before the reports: {rss_before:.0f} MB, after: {peak_rss_mb():.0f} MB")
    sys.exit(0 if ratio >= 0.5 else 1)


if __name__ == "__main__":
    main()
