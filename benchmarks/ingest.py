"""Ingest throughput, the full path, beside raw baselines measured in the same run.

    python benchmarks/ingest.py [--items 50000] [--page 100] [--block 10000]
    python benchmarks/ingest.py --database-url postgresql://USER@HOST/DB --items 200000

The full path is what `socialdesk sync` does with each page once it is downloaded: parse
X's response bodies (the connector's parser), find personal data, store (duplicates,
contacts, threads, messages, conversation totals, cursor) and set the due times, one
transaction per page. It is timed without generating the bodies; the parser's and the
detector's shares are timed apart, so what remains is the store's.

Baselines, same run, same messages, no socialdesk code:
  SQLite: raw sqlite3 into the real `message` table (indexes, full-text trigger), a
  transaction per page, by `executemany` (issue 16's "project's own raw baseline") and by
  one multi-row INSERT per page (the faster form ingest uses); `executemany` into a plain
  table with a unique key.
  PostgreSQL: COPY into the real `message` table (its GIN search index included);
  `executemany` into a plain table. On PostgreSQL the benchmark works in two scratch
  databases it creates next to the one named in the URL and drops at the end.

Goals (issue 16): SQLite >= 40 % of the executemany baseline (and >= 35,000 items/s on
the reference VM); PostgreSQL >= 50 % of COPY, and the rate of the last block within 10 %
of the first. The exit status is 1 when a ratio misses its goal.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, make_url, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from benchmarks.ingest_data import (  # noqa: E402
    BRAND_ID,
    page_bodies,
    postgres_raw_rates,
    sqlite_raw_rates,
)
from connectors.base import PullPage  # noqa: E402
from connectors.x_parse import XPayloadParser, users_by_id  # noqa: E402
from socialdesk.clock import system_clock  # noqa: E402
from socialdesk.privacy.detect import Detector  # noqa: E402
from socialdesk.rules_config import HoursSettings  # noqa: E402
from socialdesk.service.hours import BusinessHours  # noqa: E402
from socialdesk.service.sla import DueClock  # noqa: E402
from socialdesk.store.db import open_store  # noqa: E402
from socialdesk.store.ingest import ensure_account, ingest_page  # noqa: E402
from socialdesk.sync import spans_finder  # noqa: E402

SLA_MINUTES = 60


@dataclass
class FullPath:
    items: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    """Seconds of this process's CPU: steadier than the wall clock on a shared machine, and
    all the work there is on SQLite (not on PostgreSQL: the server's is not counted). The
    warm-ups below (the detector's and the holiday calendar's first call, once a process)
    are not timed."""
    parse: float = 0.0
    detect: float = 0.0
    parse_cpu: float = 0.0
    detect_cpu: float = 0.0
    flagged: int = 0
    blocks: list[float] = field(default_factory=list)
    """Items/s of each block of `--block` items, in order."""
    memory: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    @property
    def cpu_rate(self) -> float:
        return self.items / self.cpu


def measure_full_path(url: str, count: int, page_size: int, block: int) -> FullPath:
    engine = open_store(url)
    account = ensure_account(engine, "bench", "x", now=system_clock())
    parser = XPayloadParser(BRAND_ID)
    result = FullPath()
    find = spans_finder(Detector())
    hours = BusinessHours.from_settings(HoursSettings())
    due_clock = DueClock(hours, SLA_MINUTES)
    find("warm-up: +39 347 1234567, mario.rossi@example.com")
    hours.add_business_minutes(system_clock(), SLA_MINUTES)

    def timed_find(words: str, context: str | None = None) -> list[tuple[int, int, str]]:
        started, cpu = time.perf_counter(), time.process_time()
        spans = find(words, context)
        result.detect += time.perf_counter() - started
        result.detect_cpu += time.process_time() - cpu
        result.flagged += bool(spans)
        return spans

    block_started, block_seconds = 0, 0.0
    with Session(engine, expire_on_commit=False) as session:
        for body in page_bodies(count, page_size):
            started, cpu = time.perf_counter(), time.process_time()
            items, quarantined = parser.mentions(body["data"], users_by_id(body))
            result.parse += time.perf_counter() - started
            result.parse_cpu += time.process_time() - cpu
            page = PullPage("mentions", items, quarantined, cursor=items[-1].external_id)
            report = ingest_page(session, account, page, now=system_clock(),
                                 find_spans=timed_find, due_clock=due_clock)
            elapsed = time.perf_counter() - started
            result.cpu += time.process_time() - cpu
            result.seconds += elapsed
            block_seconds += elapsed
            result.items += len(report.new_message_ids)
            if result.items - block_started >= block:
                result.blocks.append((result.items - block_started) / block_seconds)
                block_started, block_seconds = result.items, 0.0
                result.memory.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    engine.dispose()
    if result.items != count:
        raise SystemExit(f"ingest stored {result.items} of {count} items")
    return result


@contextmanager
def scratch_databases(url: str, count: int) -> Iterator[list[str]]:
    """`count` empty PostgreSQL databases on the server of `url`, dropped afterwards."""
    admin_url = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    names = [f"socialdesk_bench_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(
                f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    try:
        yield [admin_url.set(database=name).render_as_string(hide_password=False)
               for name in names]
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def print_full_path(result: FullPath, block: int) -> None:
    per_item = 1e6 / result.rate
    parse, detect = (1e6 * share / result.items for share in (result.parse, result.detect))
    print(f"socialdesk full path:   {result.rate:10,.0f} items/s  ({per_item:.0f} µs/item: "
          f"parse {parse:.0f}, personal data {detect:.0f}, store and due times "
          f"{per_item - parse - detect:.0f}); {result.flagged / result.items:.0%} flagged")
    store_only = result.items / (result.seconds - result.parse - result.detect)
    print(f"  store and due times alone: {store_only:10,.0f} items/s")
    cpu = [1e6 * share / result.items for share in (result.cpu, result.parse_cpu,
                                                      result.detect_cpu)]
    print(f"  per CPU second: {result.cpu_rate:,.0f} items ({cpu[0]:.0f} µs/item: parse "
          f"{cpu[1]:.0f}, personal data {cpu[2]:.0f}, store and due times "
          f"{cpu[0] - cpu[1] - cpu[2]:.0f})")
    rates = " ".join(f"{rate:,.0f}" for rate in result.blocks)
    print(f"  items/s per block of {block:,}: {rates}")
    print("  peak RSS per block: " + " ".join(f"{m:.0f}" for m in result.memory) + " MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--page", type=int, default=100, help="items per page (X: up to 100)")
    parser.add_argument("--block", type=int, default=10_000, help="items per reported block")
    parser.add_argument("--database-url", help="PostgreSQL server to measure (default: SQLite)")
    args = parser.parse_args()
    print(f"items: {args.items:,}, pages of {args.page}")
    raw: dict[str, tuple[float, float | None]]
    if args.database_url:
        with scratch_databases(args.database_url, 2) as (ingest_url, raw_url):
            result = measure_full_path(ingest_url, args.items, args.page, args.block)
            raw = dict(postgres_raw_rates(raw_url, args.items))
        baseline, goal = "COPY", 0.50
    else:
        with tempfile.TemporaryDirectory() as folder:
            database = Path(folder) / "ingest.db"
            result = measure_full_path(f"sqlite:///{database}", args.items, args.page,
                                       args.block)
            raw = dict(sqlite_raw_rates(database, args.items, args.page))
        baseline, goal = "executemany", 0.40
    for name, (rate, cpu_rate) in raw.items():
        line = f"raw {name + ':':30} {rate:10,.0f} rows/s  (full path: {result.rate / rate:4.0%})"
        if cpu_rate is not None:
            line += (f"; per CPU second {cpu_rate:10,.0f} "
                     f"(full path: {result.cpu_rate / cpu_rate:4.0%})")
        print(line)
    print_full_path(result, args.block)
    ratio = result.rate / raw[baseline][0]
    steady = result.blocks[-1] / result.blocks[0] if len(result.blocks) > 1 else 1.0
    print(f"full path / {baseline}: {ratio:.0%} (goal >= {goal:.0%}); "
          f"last block / first block: {steady:.0%}")
    failed = ratio < goal or (args.database_url is not None and steady < 0.9)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
