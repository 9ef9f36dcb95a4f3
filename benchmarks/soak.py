"""Soak `socialdesk run` against the sandbox in fast-forward: a busy hour in a few real minutes.

The sandbox writes customer items at `--rate` per second while `socialdesk run` polls it.
Fast-forward F (default: one hour squeezed into `--duration`) divides every account's
production poll interval by F and multiplies the sandbox's rate limits by F, so polling
keeps the same ratio to the limits that production has. At the end the generator stops,
the runner gets two poll intervals to drain, then SIGTERM.

Prints: items in the sandbox vs stored, duplicates, 429s the sandbox answered because of
our polling (no faults are injected), items re-read, public messages with personal data the
privacy guard left undecided, platform writes performed twice, and the runner's RSS over time.

    .venv/bin/python benchmarks/soak.py --duration 300 --rate 10
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func
from sqlmodel import Session, col, select

from socialdesk.config import POLL_SECONDS_RANGE
from socialdesk.platforms.facebook_platform import (
    FACEBOOK_FAST_POLL_SECONDS,
    FACEBOOK_POLL_SECONDS,
)
from socialdesk.platforms.x_platform import X_FAST_POLL_SECONDS, X_POLL_SECONDS
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.limits import DEFAULT_LIMITS
from socialdesk.sandbox.state import X_USER_ID
from socialdesk.store.models import Message, PrivacyState

CUSTOMER_CHANNELS = {"mention", "dm", "comment", "visitor_post", "messenger"}


class Counting429s:
    """Wraps the sandbox's rate limiter to count the requests it refused."""

    def __init__(self, limiter: Any) -> None:
        self.limiter, self.refused = limiter, Counter[str]()
        spend, graph_call = limiter.spend, limiter.graph_call

        def counted_spend(key: str) -> Any:
            budget = spend(key)
            if budget.exceeded:
                self.refused[key] += 1
            return budget

        def counted_graph_call() -> tuple[int, bool]:
            percent, exceeded = graph_call()
            if exceeded:
                self.refused["facebook"] += 1
            return percent, exceeded

        limiter.spend, limiter.graph_call = counted_spend, counted_graph_call


def poll_table(defaults: dict[str, int], factor: float) -> str:
    low = POLL_SECONDS_RANGE[0]
    pairs = ", ".join(f"{s} = {max(low, round(v / factor))}" for s, v in defaults.items())
    return "{ " + pairs + " }"


def soak_config(server: SandboxServer, folder: Path, factor: float) -> Path:
    path = write_config(folder / "config.toml", server.base_url)
    text = path.read_text(encoding="utf-8")
    text = text.replace('platform = "x"\n', 'platform = "x"\npoll_seconds = '
                        f"{poll_table(X_POLL_SECONDS, factor)}\nfast_poll_seconds = "
                        f"{poll_table(X_FAST_POLL_SECONDS, factor)}\n")
    text = text.replace('platform = "facebook"\n', 'platform = "facebook"\npoll_seconds = '
                        f"{poll_table(FACEBOOK_POLL_SECONDS, factor)}\nfast_poll_seconds = "
                        f"{poll_table(FACEBOOK_FAST_POLL_SECONDS, factor)}\n")
    path.write_text(text, encoding="utf-8")
    return path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def generate(server: SandboxServer, rate: float, stop: threading.Event) -> None:
    interval = 1 / rate
    next_at = time.monotonic()
    while not stop.is_set():
        server.generate(1)
        next_at += interval
        stop.wait(max(0.0, next_at - time.monotonic()))


def sandbox_keys(server: SandboxServer) -> set[tuple[str, str]]:
    return {(i["platform"], i["id"]) for i in server.state()["items"]
            if i["channel"] in CUSTOMER_CHANNELS
            and i.get("event_type", "MessageCreate") == "MessageCreate"}


def stored(database: Path) -> Counter[tuple[str, str]]:
    engine = create_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        rows = session.exec(select(Message.platform, Message.external_id)).all()
    engine.dispose()
    return Counter((platform, external_id) for platform, external_id in rows)


def undecided(database: Path) -> int:
    """Public customer messages with personal data the privacy guard has not decided."""
    engine = create_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        left = session.exec(select(func.count()).select_from(Message).where(
            col(Message.privacy_state) == PrivacyState.UNDECIDED.value)).one()
    engine.dispose()
    return int(left)


def writes_twice(server: SandboxServer) -> int:
    """Replies, private messages and hides the sandbox performed more than once."""
    writes = Counter((a["kind"], a["path"], json.dumps(a["body"], sort_keys=True))
                     for a in server.state()["actions"] if a["ok"])
    return sum(times - 1 for times in writes.values() if times > 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600, help="real seconds of traffic")
    parser.add_argument("--rate", type=float, default=10, help="customer items per second")
    parser.add_argument("--fast-forward", type=float, default=None,
                        help="time compression (default: 3600 / duration)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    factor = args.fast_forward or 3600 / args.duration
    limits = {key: round(value * factor) for key, value in DEFAULT_LIMITS.items()}
    with tempfile.TemporaryDirectory() as folder, SandboxServer(
        seed=args.seed, static=True, messages=200, rate_limits=limits
    ) as server:
        server.start()
        refused = Counting429s(server.limiter)
        config = soak_config(server, Path(folder), factor)
        print(f"fast-forward {factor:.1f}x: {config.read_text().count('poll_seconds')} accounts,"
              f" X polls {poll_table(X_POLL_SECONDS, factor)}, Facebook polls "
              f"{poll_table(FACEBOOK_POLL_SECONDS, factor)}; sandbox limits x{factor:.1f}")
        log_path = Path(folder) / "run.log"
        with open(log_path, "w") as log_file:
            runner = subprocess.Popen(
                [sys.executable, "-m", "socialdesk", "run", "--config", str(config)],
                stdout=subprocess.DEVNULL, stderr=log_file,
                env={**os.environ, SANDBOX_TOKEN_ENV: f"{X_USER_ID}-soak"},
            )
            stop = threading.Event()
            generator = threading.Thread(target=generate, args=(server, args.rate, stop))
            started = time.monotonic()
            generator.start()
            samples = []
            for share in (0.1, 0.25, 0.5, 0.75, 1.0):
                time.sleep(max(0.0, started + share * args.duration - time.monotonic()))
                samples.append((share, rss_mb(runner.pid)))
                print(f"  t={share * args.duration:6.0f}s  RSS {samples[-1][1]:6.1f} MB  "
                      f"sandbox {len(sandbox_keys(server))} items", flush=True)
            stop.set()
            generator.join()
            drain = 2 * max(X_POLL_SECONDS["dms"], FACEBOOK_POLL_SECONDS["feed"]) / factor + 5
            time.sleep(drain)
            runner.send_signal(signal.SIGTERM)
            runner.wait(120)
        log = log_path.read_text()
        expected, counts = sandbox_keys(server), stored(Path(folder) / "socialdesk.db")
        missing, extra = expected - set(counts), set(counts) - expected
        durations: dict[str, list[float]] = {}
        for stream, seconds in re.findall(r"(\S+/\S+): .* in ([\d.]+) s;", log):
            durations.setdefault(stream, []).append(float(seconds))
        print("pull seconds, median / max: " + ", ".join(
            f"{stream} {sorted(values)[len(values) // 2]:.2f} / {max(values):.2f}"
            for stream, values in sorted(durations.items())))
        channels = {(i["platform"], i["id"]): i["channel"] for i in server.state()["items"]}
        if missing:
            print(f"missing by channel: {dict(Counter(channels[key] for key in missing))}")
        rereads = sum(int(n) for n in re.findall(r"(\d+) already stored", log))
        print(f"items in sandbox: {len(expected)}; stored: {len(counts)}; missing: {len(missing)};"
              f" unknown: {len(extra)}")
        print(f"duplicates stored: {sum(n - 1 for n in counts.values() if n > 1)}; items re-read "
              f"and skipped by the unique key: {rereads}")
        print(f"429s answered by the sandbox: {sum(refused.refused.values())} "
              f"{dict(refused.refused)}; 'rate limited' log lines: {log.count('rate limited')}")
        print(f"syncs logged: {log.count(' in ')}; errors: {log.count('failed')}; runner exit "
              f"{runner.returncode}")
        print(f"public messages with personal data left undecided: "
              f"{undecided(Path(folder) / 'socialdesk.db')}; platform writes performed twice: "
              f"{writes_twice(server)}")
        print("RSS MB: " + ", ".join(f"{s:.0%} {mb:.1f}" for s, mb in samples))
        if missing:
            catch_up = subprocess.run(
                [sys.executable, "-m", "socialdesk", "sync", "--config", str(config)],
                capture_output=True, text=True, env={**os.environ, SANDBOX_TOKEN_ENV: "soak"},
            )
            still = expected - set(stored(Path(folder) / "socialdesk.db"))
            print(f"after one more `socialdesk sync` (exit {catch_up.returncode}): "
                  f"{len(still)} missing")


if __name__ == "__main__":
    main()
