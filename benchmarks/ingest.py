"""Ingest throughput: the real ingest path against raw sqlite3 executemany, in the same run.

    python benchmarks/ingest.py [--items 200000] [--page 100]

Goal (issue 2): the ingest path reaches at least 25 % of the raw rate, with peak memory
flat in N. The raw baseline inserts the same rows into the same `message` table in one
transaction, with no threading, contacts or cursor: the ceiling, not a competitor.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session  # noqa: E402

from connectors.base import Channel, Direction, InboundItem, PullPage  # noqa: E402
from socialdesk.clock import system_clock
from socialdesk.store.db import open_store  # noqa: E402
from socialdesk.store.ingest import ensure_account, ingest_page  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TEXT = ("@brand il mio ordine non è ancora arrivato, potete controllare? "
        "Sono giorni che aspetto e nessuno risponde ai messaggi privati, grazie")


def synthetic_items(count: int) -> Iterator[InboundItem]:
    """Mentions in threads of five, from a pool of 20,000 customers."""
    for number in range(count):
        tweet_id = str(10**17 + number)
        root = str(10**17 + number - number % 5)
        yield InboundItem(
            platform="x",
            external_id=tweet_id,
            channel=Channel.MENTION,
            direction=Direction.INBOUND,
            thread_key=root,
            text=TEXT,
            created_at=T0 + timedelta(seconds=number),
            author_id=str(number % 20_000),
            author_handle=f"customer{number % 20_000}",
            author_name=f"Customer {number % 20_000}",
            parent_external_id=None if tweet_id == root else str(int(tweet_id) - 1),
            raw={"id": tweet_id, "text": TEXT, "author_id": str(number % 20_000),
                 "conversation_id": root, "edit_history_tweet_ids": [tweet_id]},
        )


def pages(count: int, page_size: int) -> Iterator[PullPage]:
    batch: list[InboundItem] = []
    for item in synthetic_items(count):
        batch.append(item)
        if len(batch) == page_size:
            yield PullPage("mentions", batch, cursor=batch[-1].external_id)
            batch = []
    if batch:
        yield PullPage("mentions", batch, cursor=batch[-1].external_id)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_ingest(workdir: Path, count: int, page_size: int) -> tuple[float, list[float]]:
    engine = open_store(f"sqlite:///{workdir / 'ingest.db'}")
    account = ensure_account(engine, "bench", "x", now=system_clock())
    checkpoints = {count // 4, count // 2, count}
    memory: list[float] = []
    stored = 0
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        for page in pages(count, page_size):
            stored += len(ingest_page(session, account, page, now=system_clock()).new_message_ids)
            if any(stored >= mark > stored - page_size for mark in checkpoints):
                memory.append(peak_rss_mb())
    elapsed = time.perf_counter() - started
    engine.dispose()
    if stored != count:
        raise SystemExit(f"ingest stored {stored} of {count} items")
    return count / elapsed, memory


def measure_raw(workdir: Path, count: int) -> float:
    """The same rows into the same `message` table (its indexes included), in one
    transaction, straight through sqlite3: the ceiling ingest is measured against."""
    database = workdir / "raw.db"
    open_store(f"sqlite:///{database}").dispose()
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [
        (1, int(item.thread_key), item.platform, item.external_id, item.parent_external_id,
         item.channel.value, "public", item.direction.value, item.author_id, item.author_handle,
         item.author_name, item.text, item.created_at.strftime("%Y-%m-%d %H:%M:%S.%f"), now, 0,
         json.dumps(item.raw))
        for item in synthetic_items(count)
    ]
    started = time.perf_counter()
    with connection:
        connection.executemany(
            "INSERT INTO message (account_id, conversation_id, platform, external_id, "
            "parent_external_id, channel, visibility, direction, author_external_id, "
            "author_handle, author_name, text, created_at, ingested_at, has_pii, raw) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    elapsed = time.perf_counter() - started
    connection.close()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--page", type=int, default=100, help="items per page (X: up to 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        ingest_rate, memory = measure_ingest(workdir, args.items, args.page)
        raw_rate = measure_raw(workdir, args.items)
    ratio = ingest_rate / raw_rate
    print(f"items: {args.items:,}, pages of {args.page}")
    print(f"raw sqlite3 executemany: {raw_rate:12,.0f} rows/s")
    print(f"socialdesk ingest path:  {ingest_rate:12,.0f} items/s  "
          f"({ratio:.0%} of raw; goal >= 25%)")
    print("peak RSS at 25/50/100% of items: " + " / ".join(f"{m:.0f} MB" for m in memory))
    sys.exit(0 if ratio >= 0.25 else 1)


if __name__ == "__main__":
    main()
