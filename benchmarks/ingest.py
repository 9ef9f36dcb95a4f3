"""Ingest throughput, the full path, beside raw baselines measured in the same run.

    python benchmarks/ingest.py [--items 50000] [--page 100] [--block 10000]
    python benchmarks/ingest.py --database-url postgresql://USER@HOST/DB --items 200000

The full path is what `socialdesk sync` does with each page once it is downloaded, by the
sync's own walk (`socialdesk.store.page_writer.store_pages`): parse X's response bodies
(the connector's parser) and find personal data (`PageScanner.prescan`) in the walking
thread, while the writer's thread stores the page before (duplicates, contacts, threads,
messages, conversation totals, cursor) and sets the due times, one transaction per page.
It is timed a block at a time (a writer per block), without generating the bodies. The
parser's and the detector's shares are timed in the walking thread, the store's in the
writer's, each per page: they overlap, so the wall time per item is less than their sum,
and the difference is printed as "overlapped". (Before the writer, each message's
detection was timed alone, and the timer's own calls, about 4 µs an item, counted in the
personal-data share.) CPU time (this process's, both threads', and each share's in its
own thread) is printed beside wall time: on a shared machine it is the steadier figure.

Baselines, same run, same messages, no socialdesk code:
  SQLite: raw sqlite3 into the real `message` table (indexes, full-text trigger), a
  transaction per page, by `executemany` (issue 16's "project's own raw baseline") and by
  one multi-row INSERT per page (the faster form ingest uses), each block's pages right
  after the full path stored the block (interleaved, as below for PostgreSQL: the
  machine's load moved the wall-clock ratio between 30 % and 54 % when the baselines ran
  after the whole full path);
  `executemany` into a plain table with a unique key, at the end.
  PostgreSQL: COPY into the real `message` table (its GIN search index included): all
  rows in one COPY and one transaction, after the full path (the baseline of the goal, as
  issue 16 measured it); interleaved with the full path (below), a COPY per page and a
  transaction per block, and in a second database a transaction per page as ingest
  commits (what per-page commits alone cost);
  `executemany` into a plain table. The benchmark works in scratch databases it creates
  next to the one named in the URL and drops at the end.

How PostgreSQL's steadiness is told (issue 16: the rate at 200k items within 10 % of the
rate at 10k). A 2-vCPU VM shared with other work moves any one block's rate by ±30 %, and
the store ANALYZEs when its tables double (`socialdesk.store.statistics`), which lands in
one block each time. So a COPY baseline is interleaved with the full path: each page's
rows are COPYed into the baseline's tables, which grow alongside, right after ingest
stored the page's block (a second or two), and a block's ratio compares two measurements
close in time, under about the same load, at the same table size. The rate at each end is the median
of the first and of the last three blocks (two when there are fewer than six), as a ratio
to the interleaved COPY and as absolute items/s, with CPU µs per item beside; the goal
compares the ratios.

Goals (issue 16): SQLite >= 40 % of the executemany baseline (and >= 35,000 items/s on
the reference VM); PostgreSQL >= 50 % of COPY, and the ratio at the end within 10 % of
the ratio at the start. The exit status is 1 when a ratio misses its goal.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, create_engine, make_url, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from benchmarks.ingest_data import (  # noqa: E402
    BRAND_ID,
    PostgresRaw,
    ServerCpu,
    SqliteRaw,
    page_bodies,
)
from connectors.base import PullPage  # noqa: E402
from connectors.x_parse import XPayloadParser, users_by_id  # noqa: E402
from socialdesk.clock import system_clock  # noqa: E402
from socialdesk.privacy.detect import Detector  # noqa: E402
from socialdesk.rules_config import HoursSettings  # noqa: E402
from socialdesk.service.hours import BusinessHours  # noqa: E402
from socialdesk.service.sla import DueClock  # noqa: E402
from socialdesk.store.db import open_store  # noqa: E402
from socialdesk.store.ingest import IngestReport, ensure_account, ingest_page  # noqa: E402
from socialdesk.store.page_spans import PageScanner, PrescannedPage  # noqa: E402
from socialdesk.store.page_writer import store_pages  # noqa: E402
from socialdesk.sync import spans_finder  # noqa: E402

SLA_MINUTES = 60


@dataclass
class Block:
    """One block of `--block` items: the full path's wall and CPU seconds, and the COPY
    baselines' seconds for the same rows, a COPY a page right after ingest stored the
    block (PostgreSQL only)."""

    items: int
    seconds: float
    cpu: float
    server_cpu: float = 0.0
    """CPU seconds of the server processes serving ingest's database (PostgreSQL)."""
    copy: float = 0.0
    copy_cpu: float = 0.0
    """CPU seconds of the COPY, this process's and its server process's."""
    copy_paged: float = 0.0

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    @property
    def ratio(self) -> float:
        """The full path's rate over COPY's for the same block."""
        return self.copy / self.seconds if self.copy else 0.0

    @property
    def cpu_ratio(self) -> float:
        """The same per CPU second, ingest's and its server's against COPY's."""
        return self.copy_cpu / (self.cpu + self.server_cpu) if self.server_cpu else 0.0


@dataclass
class FullPath:
    items: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    """Seconds of this process's CPU, both threads': steadier than the wall clock on a shared
    machine, and all the work there is on SQLite (not on PostgreSQL: the server's is not
    counted). The warm-ups below (the detector's and the holiday calendar's first call, once
    a process) are not timed."""
    parse: float = 0.0
    detect: float = 0.0
    store: float = 0.0
    """Seconds the writer spent in `ingest_page`, in its thread."""
    parse_cpu: float = 0.0
    detect_cpu: float = 0.0
    store_cpu: float = 0.0
    """The same, in CPU seconds of the thread that did each (`time.thread_time`)."""
    flagged: int = 0
    blocks: list[Block] = field(default_factory=list)
    memory: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.items / self.seconds

    @property
    def cpu_rate(self) -> float:
        return self.items / self.cpu


BeforeFirstPage = Callable[[], None]
AfterPage = Callable[[int, int, Block, bool], None]
"""Called after each page of a block once the block is stored, untimed, with the page's
first and past-last item numbers, its block and whether the page ends the block."""


@dataclass
class _Timed:
    """Wall and CPU seconds of the calling thread since it started."""

    wall: float = field(default_factory=time.perf_counter)
    cpu: float = field(default_factory=time.thread_time)

    def spent(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.thread_time() - self.cpu


def measure_full_path(url: str, count: int, page_size: int, block: int,
                      after_page: AfterPage | None = None,
                      before_first_page: BeforeFirstPage | None = None) -> FullPath:
    """The sync's pipelined path (`socialdesk.store.page_writer`), a writer per block: this
    thread parses each page and finds its personal data (`PageScanner.prescan`, as the
    walk does) while the writer stores the page before. The parse's and the scan's shares
    are timed in this thread, the store's in the writer's: they overlap, so the wall time
    is less than their sum. A reply the detector must read again with its thread's context
    is scanned in the writer and counted in the store's share (none here: no brand
    questions in these mentions)."""
    engine = open_store(url)
    account = ensure_account(engine, "bench", "x", now=system_clock())
    parser = XPayloadParser(BRAND_ID)
    result = FullPath()
    detector = Detector()
    scanner = PageScanner(spans_finder(detector), detector.reads_context)
    hours = BusinessHours.from_settings(HoursSettings())
    due_clock = DueClock(hours, SLA_MINUTES)
    scanner.find_spans("warm-up: +39 347 1234567, mario.rossi@example.com", None)
    hours.add_business_minutes(system_clock(), SLA_MINUTES)

    def store(session: Session, scanned: PrescannedPage) -> IngestReport:
        def find_spans(words: str, context: str | None) -> list[tuple[int, int, str]]:
            spans = scanned.find_spans(words, context)
            result.flagged += bool(spans)
            return spans

        timed = _Timed()
        report = ingest_page(session, account, scanned.page, now=system_clock(),
                             find_spans=find_spans, due_clock=due_clock)
        seconds, cpu = timed.spent()
        result.store += seconds
        result.store_cpu += cpu
        return report

    if before_first_page is not None:
        before_first_page()
    bodies = page_bodies(count, page_size)
    while result.items < count:
        pages = list(itertools.islice(bodies, max(1, -(-block // page_size))))
        if not pages:
            break
        stored = _walk_block(pages, parser, scanner, engine, store, result)
        current = result.blocks[-1]
        for number, (_scanned, report) in enumerate(stored):
            stop = result.items + len(report.new_message_ids)
            if after_page is not None:
                after_page(result.items, stop, current, number == len(stored) - 1)
            result.items = stop
        result.memory.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    engine.dispose()
    if result.items != count:
        raise SystemExit(f"ingest stored {result.items} of {count} items")
    return result


def _walk_block(pages: list[dict[str, Any]], parser: XPayloadParser, scanner: PageScanner,
                engine: Engine, store: Callable[[Session, PrescannedPage], IngestReport],
                result: FullPath) -> list[tuple[PrescannedPage, IngestReport]]:
    """The sync's walk over one block (`store_pages`): parse and scan each page here while
    the writer stores the one before; the block's wall and CPU seconds (both threads') go
    to a new `Block`."""

    def prepare(body: dict[str, Any]) -> PrescannedPage:
        timed = _Timed()
        items, quarantined = parser.mentions(body["data"], users_by_id(body))
        page = PullPage("mentions", items, quarantined, cursor=items[-1].external_id)
        seconds, spent = timed.spent()
        result.parse += seconds
        result.parse_cpu += spent
        timed = _Timed()
        scanned = scanner.prescan(page)
        seconds, spent = timed.spent()
        result.detect += seconds
        result.detect_cpu += spent
        return scanned

    started, cpu = time.perf_counter(), time.process_time()
    stored: list[tuple[PrescannedPage, IngestReport]] = []
    store_pages(engine, pages, prepare, store, stored.extend)
    elapsed, spent = time.perf_counter() - started, time.process_time() - cpu
    items = sum(len(report.new_message_ids) for _scanned, report in stored)
    result.seconds += elapsed
    result.cpu += spent
    result.blocks.append(Block(items, elapsed, spent))
    return stored


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
    parse, detect, store = (1e6 * share / result.items
                            for share in (result.parse, result.detect, result.store))
    print(f"socialdesk full path:   {result.rate:10,.0f} items/s  ({per_item:.0f} µs/item "
          f"wall; the walking thread: parse {parse:.0f}, personal data {detect:.0f}; the "
          f"writer, beside it: store and due times {store:.0f}; overlapped "
          f"{parse + detect + store - per_item:.0f}); {result.flagged / result.items:.0%} "
          "flagged")
    print(f"  store and due times alone: {result.items / result.store:10,.0f} items/s")
    cpu = [1e6 * share / result.items for share in (result.cpu, result.parse_cpu,
                                                      result.detect_cpu, result.store_cpu)]
    print(f"  per CPU second: {result.cpu_rate:,.0f} items ({cpu[0]:.0f} µs/item: parse "
          f"{cpu[1]:.0f}, personal data {cpu[2]:.0f}, store and due times {cpu[3]:.0f}, "
          f"the rest (hand-off, threads) {cpu[0] - cpu[1] - cpu[2] - cpu[3]:.0f})")
    rates = " ".join(f"{one.rate:,.0f}" for one in result.blocks)
    print(f"  items/s per block of {block:,}: {rates}")
    cpu_costs = " ".join(f"{1e6 * one.cpu / one.items:.0f}" for one in result.blocks)
    print(f"  CPU µs/item per block: {cpu_costs}")
    print("  peak RSS per block: " + " ".join(f"{m:.0f}" for m in result.memory) + " MB")


def print_copy_blocks(result: FullPath) -> float:
    """Each block's COPY rates and ratio; the ratio at the end over the ratio at the start
    (medians of the first and last blocks, see the module's docstring)."""
    blocks = result.blocks
    print("  COPY a page, a block a transaction, rows/s per block: "
          + " ".join(f"{one.items / one.copy:,.0f}" for one in blocks if one.copy))
    print("  COPY a page, a page a transaction, rows/s per block: "
          + " ".join(f"{one.items / one.copy_paged:,.0f}" for one in blocks if one.copy_paged))
    print("  full path / COPY a page, a block a transaction, per block: "
          + " ".join(f"{one.ratio:.0%}" for one in blocks))
    if all(one.server_cpu for one in blocks):
        print("  server CPU µs/item per block: "
              + " ".join(f"{1e6 * one.server_cpu / one.items:.0f}" for one in blocks)
              + "; COPY's CPU µs/row (client and server): "
              + " ".join(f"{1e6 * one.copy_cpu / one.items:.0f}" for one in blocks))
        print("  per CPU second (ingest and its server against COPY and its server), per "
              "block: " + " ".join(f"{one.cpu_ratio:.0%}" for one in blocks))
        ours = sum(one.cpu + one.server_cpu for one in blocks)
        copy = sum(one.copy_cpu for one in blocks)
        print(f"  CPU per item, all blocks: {1e6 * ours / result.items:.0f} µs (this process "
              f"{1e6 * result.cpu / result.items:.0f}, server "
              f"{1e6 * (ours - result.cpu) / result.items:.0f}) against COPY's "
              f"{1e6 * copy / result.items:.0f} µs: {copy / ours:.0%}")
    ends = max(1, min(3, len(blocks) // 2))
    first, last = blocks[:ends], blocks[-ends:]
    start, end = (statistics.median(one.ratio for one in side) for side in (first, last))
    start_rate, end_rate = (statistics.median(one.rate for one in side)
                            for side in (first, last))
    start_cpu, end_cpu = (statistics.median(1e6 * one.cpu / one.items for one in side)
                          for side in (first, last))
    start_all, end_all = (statistics.median(1e6 * (one.cpu + one.server_cpu) / one.items
                                            for one in side) for side in (first, last))
    print(f"  first {ends} blocks (median): {start:.0%} of COPY, {start_rate:,.0f} items/s, "
          f"{start_cpu:.0f} CPU µs/item ({start_all:.0f} with the server's); last {ends}: "
          f"{end:.0%}, {end_rate:,.0f} items/s, {end_cpu:.0f} CPU µs/item ({end_all:.0f})")
    return end / start


def measure_postgres(url: str, args: argparse.Namespace
                     ) -> tuple[FullPath, dict[str, tuple[float, float | None]]]:
    with scratch_databases(url, 3) as (ingest_url, copy_url, paged_url):
        raw = PostgresRaw((copy_url, paged_url), args.items)
        server = ServerCpu(raw.connections[1], make_url(ingest_url).database)
        spent: dict[int, float] = {}

        def start() -> None:
            spent.update(server.read())

        def copy_page(first: int, stop: int, block: Block, ends: bool) -> None:
            whole, whole_cpu, paged = raw.copy(first, stop)
            block.copy += whole + (raw.commit() if ends else 0.0)
            block.copy_cpu += whole_cpu
            block.copy_paged += paged
            if ends:
                block.server_cpu = server.spent(spent)
                spent.clear()
                spent.update(server.read())

        try:
            result = measure_full_path(ingest_url, args.items, args.page, args.block,
                                       copy_page, start)
            copy = sum(one.copy for one in result.blocks)
            paged = sum(one.copy_paged for one in result.blocks)
            rates: dict[str, tuple[float, float | None]] = {
                "COPY": (raw.copy_rate(), None),
                "COPY a page, a block a transaction": (args.items / copy, None),
                "COPY a page, a page a transaction": (args.items / paged, None),
                "executemany, plain table": (raw.plain_rate(), None),
            }
        finally:
            raw.close()
    return result, rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--page", type=int, default=100, help="items per page (X: up to 100)")
    parser.add_argument("--block", type=int, default=10_000, help="items per reported block")
    parser.add_argument("--database-url", help="PostgreSQL server to measure (default: SQLite)")
    args = parser.parse_args()
    print(f"items: {args.items:,}, pages of {args.page}; load average "
          + " ".join(Path("/proc/loadavg").read_text().split()[:3]))
    raw: dict[str, tuple[float, float | None]]
    if args.database_url:
        result, raw = measure_postgres(args.database_url, args)
        baseline, goal = "COPY", 0.50
    else:
        with tempfile.TemporaryDirectory() as folder:
            database = Path(folder) / "ingest.db"
            sqlite_raw = SqliteRaw(database, args.items)

            def insert_page(first: int, stop: int, _block: Block, _ends: bool) -> None:
                sqlite_raw.insert(first, stop)

            result = measure_full_path(f"sqlite:///{database}", args.items, args.page,
                                       args.block, insert_page)
            raw = dict(sqlite_raw.rates(database))
        baseline, goal = "executemany", 0.40
    for name, (rate, cpu_rate) in raw.items():
        line = f"raw {name + ':':30} {rate:10,.0f} rows/s  (full path: {result.rate / rate:4.0%})"
        if cpu_rate is not None:
            line += (f"; per CPU second {cpu_rate:10,.0f} "
                     f"(full path: {result.cpu_rate / cpu_rate:4.0%})")
        print(line)
    print_full_path(result, args.block)
    ratio = result.rate / raw[baseline][0]
    steady = print_copy_blocks(result) if args.database_url else 1.0
    print(f"full path / {baseline}: {ratio:.0%} (goal >= {goal:.0%})"
          + (f"; ratio to COPY at the end / at the start: {steady:.0%} (goal >= 90%)"
             if args.database_url else ""))
    print("load average after: " + " ".join(Path("/proc/loadavg").read_text().split()[:3]))
    failed = ratio < goal or steady < 0.9
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
