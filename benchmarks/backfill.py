"""A first sync of a long history against the sandbox, timed end to end.

    .venv/bin/python benchmarks/backfill.py [--messages 20000] [--runs 2]
    .venv/bin/python benchmarks/backfill.py --python /other/tree/.venv/bin/python

The sandbox (a seeded static history of `--messages` customer messages, its rate limits
raised as for `benchmarks/freshness.py`'s backfill) serves in this process; `socialdesk
sync` runs in a child process, as a user's first sync: every page fetched over loopback
HTTP (the sandbox takes 10-50 ms a request), parsed, scanned for personal data and stored
on SQLite, then the guard, the acknowledgements and the outbox. Each run prints the
child's wall and CPU seconds, the messages stored, the requests served and the wall µs
per message; the sandbox's CPU (this process's) beside.

Each keep-alive request to the sandbox waits ~40 ms for nothing: its handler writes the
headers and the body in two segments, and the second waits for the client's delayed ACK
(Nagle's algorithm). That stands for a platform's latency (X and Graph answer in 100 ms
and more), under which a walk is bound by its requests. `--answer-at-once` turns Nagle off
in this process's sandbox (`disable_nagle_algorithm`), so a request costs what the sandbox
computes (2-5 ms) and the sync's own work shows.

`--python` names the interpreter of the child, so two checkouts are compared against the
same sandbox: alternate them, a machine shared with other work moves each run by ±25 %.
The child starts in the run's scratch folder, so it imports the socialdesk that
interpreter has installed, not this checkout's.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config  # noqa: E402
from socialdesk.sandbox.limits import DEFAULT_LIMITS  # noqa: E402
from socialdesk.sandbox.state import X_USER_ID  # noqa: E402

BACKFILL_LIMITS = {key: value * 1000 for key, value in DEFAULT_LIMITS.items()}
"""No emulated 429 in the way: the run measures the walk, not the waits."""


def backfill(python: str, messages: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as folder, SandboxServer(
        seed=seed, static=True, messages=messages, rate_limits=BACKFILL_LIMITS
    ) as server:
        server.start()
        config = write_config(Path(folder) / "config.toml", server.base_url)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        served = time.process_time()
        started = time.perf_counter()
        done = subprocess.run([python, "-m", "socialdesk", "sync", "--config", str(config)],
                              capture_output=True, text=True, cwd=folder, timeout=3600,
                              env={**os.environ, SANDBOX_TOKEN_ENV: f"{X_USER_ID}-backfill"},
                              check=False)
        seconds = time.perf_counter() - started
        served = time.process_time() - served
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
        if done.returncode not in (0, 75):  # 75: a walk stopped at a cap, deferred
            raise SystemExit(f"the sync failed ({done.returncode}): {done.stderr}")
        with sqlite3.connect(Path(folder) / "socialdesk.db") as database:
            (stored,) = database.execute("SELECT count(*) FROM message").fetchone()
        requests = sum(one.requests for one in server.traffic.counts().values())
    print(f"{python}: {seconds:6.1f} s wall, {cpu:5.1f} s CPU (the sandbox's {served:5.1f}); "
          f"{stored:,} messages, {requests:,} requests; {1e6 * seconds / stored:.0f} µs "
          f"wall per message, {1e6 * cpu / stored:.0f} µs CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--answer-at-once", action="store_true",
                        help="no delayed-ACK wait in the sandbox's answers (see above)")
    parser.add_argument("--python", action="append",
                        help="interpreter of the sync (repeat to alternate; default: this one)")
    args = parser.parse_args()
    pythons = args.python or [sys.executable]
    if args.answer_at_once:
        from socialdesk.sandbox import server

        server._Handler.disable_nagle_algorithm = True  # noqa: SLF001 (this process's sandbox)
    for run in range(1, args.runs + 1):
        for python in pythons:
            load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
            print(f"run {run}, load average {load}")
            backfill(python, args.messages, args.seed)


if __name__ == "__main__":
    main()
