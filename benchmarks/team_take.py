"""Where one manager's take-next loop spends its time, in one process on PostgreSQL.

    python benchmarks/team_take.py [--seconds 20] [--profile] [--database-url postgresql://…]

benchmarks/team.py says how many takes/s eight managers reach beside two workers; this says
what one take costs, to judge where that goes (issue 19 point 6). In a scratch database
(dropped at the end) holding `--conversations` waiting conversations, one desk loops as a
manager does in benchmarks/team.py: `take_next` giving back the one taken before (one take
in fifty ends resolved through `triage.set_status` and `release`). Printed, per loop:

- wall time, and the client's CPU time (`time.process_time`): the rest is waiting for the
  server (its work plus the round trips);
- round trips, counted exactly from libpq's protocol trace of every connection the engine
  opens: each frontend `Sync` (an extended-protocol statement) and each simple `Query`
  (BEGIN, COMMIT, the pool's pre-ping) is one wait for the server's answer;
- one bare round trip (`SELECT 1` on a psycopg connection of its own) under the same load,
  so round trips times that is what the loop waits on the network and the protocol;
- with `--profile`, cProfile's top functions by cumulative time over the loop.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from sqlalchemy import Engine, event, insert  # noqa: E402

from benchmarks.team import drop_database, fresh_database  # noqa: E402
from socialdesk.clock import system_clock  # noqa: E402
from socialdesk.desk import triage  # noqa: E402
from socialdesk.store import team  # noqa: E402
from socialdesk.store.db import open_store  # noqa: E402
from socialdesk.store.models import Status  # noqa: E402
from socialdesk.store.statistics import refresh_statistics  # noqa: E402
from socialdesk.store.tables import ACCOUNT, CONVERSATION  # noqa: E402

RESOLVE_SHARE = 0.02
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def seed(engine: Engine, conversations: int) -> None:
    """One account and `conversations` waiting ones, a minute apart."""
    with engine.begin() as connection:
        account = connection.execute(insert(ACCOUNT).values(
            name="brand-x", platform="x", created_at=T0).returning(ACCOUNT.c.id)).scalar_one()
        connection.execute(insert(CONVERSATION), [
            {"account_id": account, "channel": "mention", "visibility": "public",
             "thread_key": f"t{n}", "status": Status.NEW, "opened_at": at,
             "last_inbound_at": at, "last_message_at": at, "created_at": at, "updated_at": at}
            for n in range(conversations) for at in [T0 + timedelta(minutes=n)]])


def manager_loop(engine: Engine, seconds: float) -> int:
    """benchmarks/team.py's manager without answers: take next (giving back the one before),
    sometimes resolve and release."""
    desk, rng, loops = os.urandom(16).hex(), random.Random(1), 0
    until = time.perf_counter() + seconds
    previous: int | None = None
    while time.perf_counter() < until:
        taken = team.take_next(engine, desk, "M1", give_back=previous)
        assert taken is not None, "the queue ran dry: seed more conversations"
        previous = taken
        if rng.random() < RESOLVE_SHARE:
            triage.set_status(engine, taken, Status.RESOLVED, "M1", now=system_clock)
            team.release(engine, desk, taken)
            previous = None
        loops += 1
    team.leave(engine, desk)
    return loops


class Trips:
    """Round trips of every connection the engine opens, from libpq's trace."""

    def __init__(self, engine: Engine) -> None:
        self.file = tempfile.NamedTemporaryFile("w+")  # noqa: SIM115  (closed in `count`)
        self.connections: list[Any] = []
        event.listen(engine, "checkout", self._trace)

    def _trace(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        """At checkout, before the pool's pre-ping (the pool's own listeners come first)."""
        if dbapi_connection.pgconn not in self.connections:
            dbapi_connection.pgconn.trace(self.file.fileno())
            self.connections.append(dbapi_connection.pgconn)

    def count(self) -> int:
        for pgconn in self.connections:
            pgconn.untrace()
        text = Path(self.file.name).read_text()
        self.file.close()
        return sum(1 for line in text.splitlines()
                   if "\tF\t" in line and line.split("\t")[3].split(" ")[0] in ("Sync", "Query"))


def bare_round_trip(url: str, times: int = 500) -> float:
    with psycopg.connect(url, autocommit=True) as connection:
        started = time.perf_counter()
        for _ in range(times):
            connection.execute("SELECT 1").fetchone()
        return (time.perf_counter() - started) / times


def run(url: str, args: argparse.Namespace) -> None:
    engine = open_store(url)
    seed(engine, args.conversations)
    refresh_statistics(engine)  # as `sync` does after a backfill
    manager_loop(engine, 2.0)  # warm: caches, prepared plans
    engine.dispose()
    traced = open_store(url)
    trips = Trips(traced)
    loops = manager_loop(traced, 1.0)
    per_loop_trips = trips.count() / loops
    traced.dispose()
    engine = open_store(url)
    manager_loop(engine, 1.0)
    profile = cProfile.Profile() if args.profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    loops = manager_loop(engine, args.seconds)
    if profile:
        profile.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    engine.dispose()
    trip = bare_round_trip(url)
    print(f"{loops / wall:.0f} loops/s in one process; per loop: wall {wall / loops * 1000:.2f}"
          f" ms, client CPU {cpu / loops * 1000:.2f} ms, round trips {per_loop_trips:.1f} "
          f"(bare round trip {trip * 1000:.3f} ms: {per_loop_trips * trip * 1000:.2f} ms); "
          f"load average {os.getloadavg()[0]:.2f}")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get(
        "SOCIALDESK_TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test"))
    args = parser.parse_args()
    url = fresh_database(args.database_url)
    try:
        run(url, args)
    finally:
        drop_database(args.database_url, url)


if __name__ == "__main__":
    main()
