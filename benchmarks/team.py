"""Team load test (issue 19 point 6): 8 managers and 2 `run` workers on one PostgreSQL.

A busy sandbox (live traffic) is synced by two `socialdesk run` workers; one is killed with
SIGKILL half-way. Eight manager processes loop on `store.team.take_next`, answer now and
then through the outbox as `socialdesk reply` does (`answers.reply` + `outbox.send_now`),
resolve some conversations (`triage.set_status`, then `release`, as the desk's resolve
does) and give the rest back with their next take (`give_back`, as the desk's take next
does: one statement takes the next and releases the one before). An observer process
listens with `live_updates.ChangeFeed`, as another desk would.

Printed: conversations taken twice (two desks holding one at once), messages doubled or
lost, replies sent twice (all must be 0), take-next latency p50/p99, update latency to
other desks p50/p99 (from a manager's status change to the observer's feed hearing it),
throughput in takes/s, beside a raw baseline measured in the same run (a bare
`SELECT … FOR UPDATE SKIP LOCKED` take and release loop with psycopg, 8 processes), the
CPU the managers, this database's PostgreSQL backends and the workers used (where the
cores went), and the load average. Exit 1 on a goal missed or any loss or double.

    python benchmarks/team.py [--seconds 300] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import psutil
import psycopg
from sqlalchemy import create_engine, text

from socialdesk.clock import system_clock
from socialdesk.config import load_settings
from socialdesk.desk import answers, outbox, triage
from socialdesk.errors import SocialdeskError
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.limits import DEFAULT_LIMITS
from socialdesk.store import team
from socialdesk.store.db import open_store
from socialdesk.store.live_updates import ChangeFeed
from socialdesk.store.models import Status

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.crash_soak import traffic  # noqa: E402  (customers writing at a steady rate)

MANAGERS = 8
GOAL_TAKES = 1000.0
GOAL_UPDATE_P99 = 1.0
CUSTOMER_CHANNELS = {"mention", "dm", "comment", "visitor_post", "messenger"}
TOKEN = "team-bench"
POLLS = {"x": "{ mentions = 2, dms = 2 }", "facebook": "{ feed = 2, messenger = 2 }"}
ANSWER_EVERY = 5.0
"""Seconds between one manager's answers: a person answers now and then, takes often."""
RESOLVE_EVERY = 4.0
"""Seconds between one manager's resolves; the other takes are given back, as after a look.
An answered or resolved conversation leaves the queue, so what leaves (eight managers'
answers and resolves, 3.6 a second) stays below what arrives (`--rate`, 5 a second): a
share of the takes instead (2% until December 2026) emptied the queue as soon as takes
got faster, and the test measured managers waiting on an empty queue."""
EVERYTHING = -1
"""A change naming no row (a statement that wrote many, or the catch-up after a reconnection):
a desk re-reads everything, so it hears of every change."""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def manager(number: int, config: str, until: float, out: str) -> None:
    """One manager's loop; writes its takes, resolves and latencies to `out` as JSON."""
    settings = load_settings(Path(config))
    engine = open_store(settings.database.effective_url)
    desk, initials = uuid.uuid4().hex, f"M{number}"
    next_resolve = time.time() + random.Random(number).uniform(0, RESOLVE_EVERY)
    holds: list[tuple[int, float, float]] = []
    latencies: list[float] = []
    empty = 0
    resolves: list[tuple[int, float]] = []
    replies, refused, next_answer = 0, Counter[str](), time.time()
    previous: int | None = None
    held_at = 0.0
    while time.time() < until:
        started, given_back_at = time.perf_counter(), time.time()
        taken = team.take_next(engine, desk, initials, give_back=previous)
        latencies.append(time.perf_counter() - started)
        if previous is not None:
            holds.append((previous, held_at, given_back_at))
        previous = None
        if taken is None:
            empty += 1
            time.sleep(0.05)
            continue
        held_at = time.time()
        if held_at >= next_answer:
            next_answer = held_at + ANSWER_EVERY
            try:
                text_ = f"Ci pensiamo noi ({desk[:6]} {replies + len(refused)})."  # unique
                queued = answers.reply(engine, taken, text_, initials,
                                       settings=settings, public_anyway=True, now=system_clock)
                outbox.send_now(engine, settings, queued.id or 0, now=system_clock)
                replies += 1
            except SocialdeskError as error:
                refused[f"{type(error).__name__}: {error.message[:60]}"] += 1
        if held_at >= next_resolve:  # as the desk's resolve: the hold given back
            next_resolve = held_at + RESOLVE_EVERY
            called = time.time()
            triage.set_status(engine, taken, Status.RESOLVED, initials, now=system_clock)
            resolves.append((taken, called))
            holds.append((taken, held_at, time.time()))
            team.release(engine, desk, taken)
        else:
            previous = taken  # given back by the next take, as the desk's take next does
    if previous is not None:
        holds.append((previous, held_at, time.time()))
    team.leave(engine, desk)
    engine.dispose()
    Path(out).write_text(json.dumps({"holds": holds, "latencies": latencies, "empty": empty,
                                     "cpu": time.process_time(),
                                     "resolves": resolves, "replies": replies,
                                     "refused": refused}))


def observer(config: str, done: Any, out: str) -> None:
    """Another desk: every conversation change its feed hears, with the time heard, until
    `done` (an Event) is set after the managers finished."""
    engine = open_store(load_settings(Path(config)).database.effective_url)
    feed = ChangeFeed.open(engine)
    assert feed is not None, "live updates need PostgreSQL"
    heard: list[tuple[int, float]] = []
    while not done.is_set():
        for change in feed.wait(0.5):
            if change.table == "conversation" and isinstance(change.row_id, int):
                heard.append((change.row_id, time.time()))
            elif change.table in ("conversation", "*"):
                heard.append((EVERYTHING, time.time()))
    feed.close()
    engine.dispose()
    Path(out).write_text(json.dumps(heard))


def update_latencies(resolves: list[tuple[int, float]], heard: list[tuple[int, float]]
                     ) -> tuple[list[float], int]:
    """Per resolve, the first time the observer heard of its conversation after the call;
    and how many it never heard of."""
    by_row: dict[int, list[float]] = defaultdict(list)
    for row, at in heard:
        by_row[row].append(at)
    found, missed = [], 0
    for row, called in resolves:
        later = [at for at in by_row.get(row, []) + by_row.get(EVERYTHING, []) if at >= called]
        if later:
            found.append(min(later) - called)
        else:
            missed += 1
    return found, missed


def taken_twice(holds: list[tuple[str, int, float, float]]) -> int:
    """Conversations two desks held at once (each hold between its take's commit and its
    release's start, so an overlap here is a real one)."""
    by_row: dict[int, list[tuple[float, float, str]]] = defaultdict(list)
    for desk, row, start, end in holds:
        by_row[row].append((start, end, desk))
    twice = 0
    for spans in by_row.values():
        spans.sort()
        latest_end, latest_desk = -1.0, ""
        for start, end, desk in spans:
            if start < latest_end and desk != latest_desk:
                twice += 1
            if end > latest_end:
                latest_end, latest_desk = end, desk
    return twice


def raw_baseline(url: str, seconds: float) -> float:
    """Takes/s of a bare SKIP LOCKED take-and-release loop, 8 processes, no socialdesk code."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_queue")
        connection.execute("CREATE TABLE bench_queue (id serial PRIMARY KEY, "
                           "waiting_since double precision, taken_by text)")
        connection.execute("INSERT INTO bench_queue (waiting_since) "
                           "SELECT random() FROM generate_series(1, 5000)")
        connection.execute("CREATE INDEX ON bench_queue (waiting_since) WHERE taken_by IS NULL")
    until = time.time() + seconds
    with mp.Pool(MANAGERS) as pool:
        counts = pool.starmap(_raw_loop, [(url, until, n) for n in range(MANAGERS)])
    return sum(counts) / seconds


def _raw_loop(url: str, until: float, number: int) -> int:
    takes = 0
    with psycopg.connect(url) as connection:
        while time.time() < until:
            with connection.transaction():
                row = connection.execute(
                    "SELECT id FROM bench_queue WHERE taken_by IS NULL ORDER BY waiting_since "
                    "LIMIT 1 FOR UPDATE SKIP LOCKED").fetchone()
                if row is None:
                    continue
                connection.execute("UPDATE bench_queue SET taken_by = %s WHERE id = %s",
                                   (str(number), row[0]))
            takes += 1
            connection.execute("UPDATE bench_queue SET taken_by = NULL WHERE id = %s", (row[0],))
            connection.commit()
    return takes


def server_cpu(url: str, stop: threading.Event, seen: dict[int, float]) -> None:
    """CPU seconds of the PostgreSQL backends serving the test's database, by pid, sampled
    every second until `stop` (a backend's last second before it ends is not counted)."""
    with psycopg.connect(url, autocommit=True) as connection:
        while not stop.wait(1.0):
            pids = [row[0] for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")]
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    times = psutil.Process(pid).cpu_times()
                    seen[pid] = times.user + times.system


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    times = psutil.Process(process.pid).cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def configure(server: SandboxServer, folder: Path, url: str) -> Path:
    path = write_config(folder / "config.toml", server.base_url)
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        lines.append(f'url = "{url}"' if line.startswith("url = ") else line)
        for platform, polls in POLLS.items():
            if line == f'platform = "{platform}"':
                lines.append(f"poll_seconds = {polls}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def worker(config: Path, log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "socialdesk", "run", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=log,
                            env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN})


def stored_keys(url: str) -> Counter[tuple[str, str]]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT platform, external_id FROM message")).all()
    engine.dispose()
    return Counter((platform, external_id) for platform, external_id in rows)


def customer_keys(server: SandboxServer) -> dict[tuple[str, str], str]:
    """Customer items the sandbox holds: (platform, id) -> channel."""
    return {(i["platform"], i["id"]): i["channel"] for i in server.state()["items"]
            if i["channel"] in CUSTOMER_CHANNELS
            and i.get("event_type", "MessageCreate") == "MessageCreate"}


def writes_twice(server: SandboxServer) -> int:
    """Successful replies and messages the sandbox received more than once (hides excluded:
    repeating one changes nothing)."""
    keys = Counter(json.dumps([a["kind"], a["path"], a["body"]], sort_keys=True)
                   for a in server.state()["actions"]
                   if a.get("ok") and not a["kind"].endswith(".hide"))
    return sum(count - 1 for count in keys.values() if count > 1)


def fresh_database(admin_url: str) -> str:
    name = f"socialdesk_team_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def run(args: argparse.Namespace, url: str, folder: Path) -> int:
    load = [os.getloadavg()[0]]
    baseline = raw_baseline(url, args.baseline_seconds)
    limits = {key: value * 100 for key, value in DEFAULT_LIMITS.items()}
    with SandboxServer(seed=19, static=True, messages=args.messages,
                       rate_limits=limits) as server, open(args.log, "wb") as log:
        server.start()
        config = configure(server, folder, url)
        backfill = subprocess.run(
            [sys.executable, "-m", "socialdesk", "sync", "--config", str(config)],
            capture_output=True, text=True, env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN})
        if backfill.returncode != 0:
            print(f"backfill: exit {backfill.returncode}: {backfill.stderr.strip()[-600:]}")
        server.limiter.reset(limits)  # the workers start with every window whole
        stop = threading.Event()
        threading.Thread(target=traffic, args=(server, args.rate, stop), daemon=True).start()
        workers = [worker(config, log) for _ in range(2)]
        backends: dict[int, float] = {}
        sampling = threading.Event()
        threading.Thread(target=server_cpu, args=(url, sampling, backends), daemon=True).start()
        started = time.time()
        until = started + args.seconds
        outputs = [str(folder / f"manager{n}.json") for n in range(MANAGERS)]
        context = mp.get_context("spawn")
        processes = [context.Process(target=manager, args=(n, str(config), until, outputs[n]))
                     for n in range(MANAGERS)]
        done = context.Event()
        watcher = context.Process(target=observer,
                                  args=(str(config), done, str(folder / "heard.json")))
        for process in [watcher, *processes]:
            process.start()
        time.sleep(args.seconds / 2)
        workers_cpu = cpu_seconds(workers[0])
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        load.append(os.getloadavg()[0])
        for process in processes:
            process.join()
        sampling.set()
        workers_cpu += cpu_seconds(workers[1])
        time.sleep(2)  # the last changes' notifications on their way
        done.set()
        watcher.join()
        load.append(os.getloadavg()[0])
        stop.set()
        expected = customer_keys(server)
        deadline = time.monotonic() + 120
        while not set(expected) <= set(stored_keys(url)) and time.monotonic() < deadline:
            time.sleep(1)
        workers[1].send_signal(signal.SIGTERM)
        workers[1].wait(120)
        stored = stored_keys(url)
        twice_sent = writes_twice(server)
    results = [json.loads(Path(out).read_text()) for out in outputs]
    holds = [(str(n), row, start, end) for n, result in enumerate(results)
             for row, start, end in result["holds"]]
    latencies = [value for result in results for value in result["latencies"]]
    resolves = [tuple(pair) for result in results for pair in result["resolves"]]
    updates, unheard = update_latencies(resolves,  # type: ignore[arg-type]
                                        json.loads((folder / "heard.json").read_text()))
    takes_per_second = len(holds) / args.seconds
    figures = {
        "conversations taken twice": taken_twice(holds),
        "messages doubled": sum(1 for count in stored.values() if count > 1),
        "messages lost": len(set(expected) - set(stored)),
        "replies sent twice": twice_sent,
        "updates never heard": unheard,
    }
    for name, value in figures.items():
        print(f"{name}: {value} (goal 0)")
    lost = Counter(channel for key, channel in expected.items() if key not in stored)
    if lost:
        print(f"lost by channel: {dict(lost)}; the workers' log: {args.log}")
    print(f"take-next latency: p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms ({len(latencies)} calls, "
          f"{sum(r['empty'] for r in results)} of them found nothing to take)")
    update_p99 = percentile(updates, 0.99)
    print(f"update latency to other desks: p50 {percentile(updates, 0.5) * 1000:.1f} ms, "
          f"p99 {update_p99 * 1000:.1f} ms (goal < {GOAL_UPDATE_P99 * 1000:.0f} ms; "
          f"{len(updates)} resolves heard)")
    print(f"throughput: {takes_per_second:.0f} takes/s (goal >= {GOAL_TAKES:.0f}); raw "
          f"SKIP LOCKED baseline {baseline:.0f} takes/s; ratio {takes_per_second / baseline:.2f}")
    cpu = sum(r["cpu"] for r in results)
    print(f"managers' CPU: {cpu:.0f} s in {args.seconds:.0f} s ({cpu / args.seconds:.2f} "
          f"cores), {cpu / max(1, len(latencies)) * 1000:.2f} ms a take (their whole loop); "
          f"PostgreSQL backends of this database {sum(backends.values()):.0f} s "
          f"({sum(backends.values()) / max(1, len(latencies)) * 1000:.2f} ms a take); "
          f"workers {workers_cpu:.0f} s (the first until killed, the second until the "
          f"managers stopped)")
    refusals = sum((Counter(r["refused"]) for r in results), Counter[str]())
    print(f"replies sent {sum(r['replies'] for r in results)}, refused "
          f"{refusals.total()} {dict(refusals.most_common(3))}; messages stored {len(stored)}; "
          f"load average {' / '.join(f'{value:.2f}' for value in load)} (start / kill / end)")
    missed = (any(figures.values()) or takes_per_second < GOAL_TAKES
              or not update_p99 < GOAL_UPDATE_P99)
    return 1 if missed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--messages", type=int, default=2500, help=(
        "history before the run; above ~2,900 the sandbox holds more than X's 800-mention "
        "reach, and the oldest mentions can never be read (counted lost)"))
    parser.add_argument("--log", type=Path, help="where the two workers' log lines go",
                        default=Path(tempfile.gettempdir()) / "team-workers.log")
    parser.add_argument("--rate", type=float, default=5.0, help="live customer items per second")
    parser.add_argument("--database-url", default=os.environ.get(
        "SOCIALDESK_TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test"))
    args = parser.parse_args()
    os.environ[SANDBOX_TOKEN_ENV] = TOKEN  # the managers send as `socialdesk reply` would
    url = fresh_database(args.database_url)
    try:
        with tempfile.TemporaryDirectory() as folder:
            code = run(args, url, Path(folder))
    finally:
        drop_database(args.database_url, url)
    print("result:", "goals met" if code == 0 else "goal missed")
    sys.exit(code)


if __name__ == "__main__":
    main()
