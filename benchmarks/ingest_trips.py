"""Where a PostgreSQL ingest page spends its wall time: round trips and each statement.

    python benchmarks/ingest_trips.py --database-url postgresql://USER@HOST/DB [--items 10000]

benchmarks/ingest.py says how fast the full path is; this says where a page waits, to
judge what pipelining or merging statements can still win (issue 16). In a scratch
database next to the one named in the URL (dropped at the end), the same pages as there:

- round trips per page, counted exactly from libpq's protocol trace of the page's
  connection: each `Sync` (an extended-protocol statement, or a whole pipeline) and each
  simple `Query` (COMMIT) is one wait for the server's answer; the pool pings only a
  connection idle for a second (`store.db.PING_AFTER_IDLE_SECONDS`), never between these
  pages (`PRE_PING`); a page after which
  the store refreshes statistics (`socialdesk.store.statistics`, on the same pooled
  connection) shows those statements too;
- one bare round trip (`SELECT 1`) timed on the same server under the same load, so
  round trips times that is what pipelining everything could save at most;
- each statement's client-observed time per item (the server's work plus one round trip),
  the commit's, and the page's wall time, taken on the untraced pages (the trace writes
  every parameter out and would slow them);
- with `--explain`, each INSERT's planning, execution and trigger time (foreign keys, the
  live-update notification) on the server, from `EXPLAIN (ANALYZE, BUFFERS)` run in a
  savepoint rolled back before the real statement on the ten pages before the traced
  ones (left out of the timings), as is and without
  `ON CONFLICT` (what absorbing a concurrent writer's duplicate costs).
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session  # noqa: E402

from benchmarks.ingest import SLA_MINUTES, scratch_databases  # noqa: E402
from benchmarks.ingest_data import BRAND_ID, page_bodies  # noqa: E402
from connectors.base import PullPage  # noqa: E402
from connectors.x_parse import XPayloadParser, users_by_id  # noqa: E402
from socialdesk.clock import system_clock  # noqa: E402
from socialdesk.privacy.detect import Detector  # noqa: E402
from socialdesk.rules_config import HoursSettings  # noqa: E402
from socialdesk.service.hours import BusinessHours  # noqa: E402
from socialdesk.service.sla import DueClock  # noqa: E402
from socialdesk.store import driver as store_driver  # noqa: E402
from socialdesk.store.db import open_store  # noqa: E402
from socialdesk.store.ingest import ensure_account, ingest_page  # noqa: E402
from socialdesk.sync import spans_finder  # noqa: E402

TRACED_PAGES = 10
"""The last pages of the run, traced (the first ones prepare statements and ANALYZE)."""
PRE_PING = 0
"""The pool's ping when the session checks its connection out, before the trace starts:
none, as the store pings only a connection idle `PING_AFTER_IDLE_SECONDS` (1 s) and a page
follows the one before at once (it was one a page with `pool_pre_ping`)."""


class StatementTimes:
    """Client-observed seconds per statement shape, by wrapping the driver's methods."""

    def __init__(self) -> None:
        self.active = True
        self.seconds: collections.Counter[str] = collections.Counter()
        self.commit = 0.0
        for name in ("rows", "run", "run_many", "rows_together", "send_later"):
            self._wrap(name)

    def _wrap(self, name: str) -> None:
        original: Callable[..., Any] = getattr(store_driver.Driver, name)

        def timed(driver: Any, *args: Any, **kwargs: Any) -> Any:
            if not self.active:
                return original(driver, *args, **kwargs)
            started = time.perf_counter()
            try:
                return original(driver, *args, **kwargs)
            finally:
                self.seconds[_shape(name, args)] += time.perf_counter() - started

        setattr(store_driver.Driver, name, timed)


class ServerTimes:
    """Per INSERT variant, (planning, execution, triggers) milliseconds of each page: the
    statement EXPLAINed in a savepoint that is rolled back, then run for real."""

    def __init__(self) -> None:
        self.active = False
        self.pages: dict[str, list[tuple[float, float, float]]] = collections.defaultdict(list)
        original: Callable[..., Any] = store_driver.Driver.rows

        def explained(driver: Any, sql: str, parameters: Any = (), **kwargs: Any) -> Any:
            if self.active and driver.postgres and sql.startswith("INSERT INTO"):
                for variant, text in _variants(sql).items():
                    self.pages[f"{sql.split()[2]} {variant}"].append(
                        _explain(driver.connection, text, parameters))
            return original(driver, sql, parameters, **kwargs)

        store_driver.Driver.rows = explained  # type: ignore[method-assign]

    def print(self) -> None:
        print("server ms per page (median): planning, execution, of which triggers:")
        for name, pages in sorted(self.pages.items()):
            plan, execute, triggers = (statistics.median(page[i] for page in pages)
                                       for i in range(3))
            print(f"  {plan:5.2f} {execute:6.2f} {triggers:5.2f}  INSERT INTO {name}")


def _variants(sql: str) -> dict[str, str]:
    found = {"as is": sql}
    if "ON CONFLICT" in sql:
        head, tail = sql.split("ON CONFLICT", 1)
        found["without ON CONFLICT"] = head + tail[tail.find("RETURNING"):] \
            if "RETURNING" in tail else head
    return found


def _explain(connection: Any, sql: str, parameters: Any) -> tuple[float, float, float]:
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT explained")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, parameters)
        plan = cursor.fetchone()[0][0]
        cursor.execute("ROLLBACK TO SAVEPOINT explained")
    return (plan["Planning Time"], plan["Execution Time"],
            sum(trigger["Time"] for trigger in plan.get("Triggers", [])))


def _shape(name: str, args: tuple[Any, ...]) -> str:
    if not args:
        return f"{name}: the page's last writes and cursor (one pipeline)"
    first = args[0]
    sql = first if isinstance(first, str) else first[0][0] if first else ""
    return f"{name}: {' '.join(sql.split()[:4])}"


def round_trip_seconds(url: str, count: int = 2000) -> float:
    engine = open_store(url)
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        started = time.perf_counter()
        for _ in range(count):
            raw.execute("SELECT 1")
        seconds = (time.perf_counter() - started) / count
    engine.dispose()
    return seconds


def run(url: str, items: int, page_size: int, explain: bool) -> None:
    engine = open_store(url)
    account = ensure_account(engine, "bench", "x", now=system_clock())
    parser = XPayloadParser(BRAND_ID)
    find = spans_finder(Detector())
    due_clock = DueClock(BusinessHours.from_settings(HoursSettings()), SLA_MINUTES)
    pages = -(-items // page_size)
    server = ServerTimes() if explain else None
    times = StatementTimes()
    trips: list[int] = []
    wall = 0.0
    timed_items = 0
    with Session(engine, expire_on_commit=False) as session, \
            tempfile.NamedTemporaryFile("w+") as trace:
        plain_commit = session.commit

        def timed_commit() -> None:
            started = time.perf_counter()
            plain_commit()
            if times.active:
                times.commit += time.perf_counter() - started

        session.commit = timed_commit  # type: ignore[method-assign]
        for number, body in enumerate(page_bodies(items, page_size)):
            found, set_aside = parser.mentions(body["data"], users_by_id(body))
            page = PullPage("mentions", found, set_aside, cursor=found[-1].external_id)
            traced = number >= pages - TRACED_PAGES
            explained = server is not None and number >= pages - 2 * TRACED_PAGES \
                and not traced
            if server is not None:
                server.active = explained
            times.active = not traced and not explained
            pgconn = session.connection().connection.driver_connection.pgconn
            if traced:
                trace.seek(0)
                trace.truncate()
                pgconn.trace(trace.fileno())
            started = time.perf_counter()
            ingest_page(session, account, page, now=system_clock(), find_spans=find,
                        due_clock=due_clock)
            if traced:
                pgconn.untrace()
                trips.append(PRE_PING + _waits(Path(trace.name).read_text()))
            elif not explained:
                wall += time.perf_counter() - started
                timed_items += len(found)
    engine.dispose()
    bare = round_trip_seconds(url)
    print(f"round trips per page (last {len(trips)} pages): {sorted(set(trips))}; "
          f"one round trip {bare * 1e6:.0f} µs, so at most "
          f"{max(trips) * bare / page_size * 1e6:.1f} µs/item to win by removing them all")
    print(f"ingest_page wall: {wall / timed_items * 1e6:.0f} µs/item over {timed_items:,} "
          "items; client-observed per item (server work + one round trip each):")
    for shape, seconds in times.seconds.most_common():
        print(f"  {seconds / timed_items * 1e6:6.1f} µs  {shape}")
    print(f"  {times.commit / timed_items * 1e6:6.1f} µs  COMMIT")
    if server is not None:
        server.print()


def _waits(trace: str) -> int:
    """Frontend `Sync` and simple `Query` messages: one answer awaited for each."""
    return sum(1 for line in trace.splitlines()
               if "\tF\t" in line and line.split("\t")[3].split(" ")[0] in ("Sync", "Query"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=100)
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE each INSERT of the last pages (slows them)")
    args = parser.parse_args()
    with scratch_databases(args.database_url, 1) as (url,):
        print(f"load average {Path('/proc/loadavg').read_text().split(' ')[:3]}")
        run(url, args.items, args.page, args.explain)
        print(f"load average after {Path('/proc/loadavg').read_text().split(' ')[:3]}")


if __name__ == "__main__":
    main()
