"""Crash soak: `kill -9` of `socialdesk sync` and `run` at random moments against a busy sandbox.

For each privacy mode (`suggest`, `auto`), a sandbox writes customer items at `--rate` per
second while `--rounds` processes are started and killed with SIGKILL after a random delay
(a `sync` or a `run`, chosen at random). Then the traffic stops and ONE clean
`socialdesk sync` runs, as cron would next. The figures:

- items the sandbox holds, items stored, missing, duplicates stored;
- public messages with personal data the guard has not decided, and redirects decided but
  still under way (a send killed mid-flight waits `stale_sending_seconds` before it is
  looked for on the platform);
- writes the sandbox received twice (the same reply, DM, hide or private reply);
- the baseline: the same sandbox synced once, uninterrupted, into a fresh database.

    .venv/bin/python benchmarks/crash_soak.py --rounds 12 --rate 20
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.limits import DEFAULT_LIMITS

CUSTOMER_CHANNELS = {"mention", "dm", "comment", "visitor_post", "messenger"}
PUBLIC_CHANNELS = ("mention", "comment", "visitor_post")
LIMIT_FACTOR = 20
"""The sandbox's rate limits are raised so that the clean sync is not cut by a 15-minute window."""


def sandbox_items(server: SandboxServer) -> dict[tuple[str, str], str]:
    """Customer items the sandbox holds: (platform, id) -> channel."""
    return {(i["platform"], i["id"]): i["channel"] for i in server.state()["items"]
            if i["channel"] in CUSTOMER_CHANNELS
            and i.get("event_type", "MessageCreate") == "MessageCreate"}


def writes_twice(server: SandboxServer) -> int:
    """Successful platform writes that repeat one already received (same call, same body)."""
    keys = Counter(json.dumps([a["platform"], a["kind"], a["path"], a["body"]], sort_keys=True)
                   for a in server.state()["actions"] if a.get("ok"))
    return sum(count - 1 for count in keys.values() if count > 1)


def store_figures(database: Path) -> dict[str, int]:
    """Stored customer messages, duplicates, and public personal data not yet decided."""
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT platform, external_id FROM message")).all()
        counts = Counter((platform, external_id) for platform, external_id in rows)
        undecided = connection.execute(text(
            "SELECT count(*) FROM message WHERE direction = 'inbound' AND visibility = 'public' "
            "AND has_pii AND (privacy_state IS NULL OR privacy_state = 'undecided')")).scalar_one()
        in_flight = connection.execute(text(
            "SELECT count(*) FROM privacy_exposure WHERE outcome = 'queued'")).scalar_one()
    engine.dispose()
    return {"duplicates": sum(n - 1 for n in counts.values() if n > 1),
            "undecided": int(undecided), "in_flight": int(in_flight),
            "keys": counts}  # type: ignore[dict-item]


def configure(server: SandboxServer, folder: Path, mode: str) -> Path:
    path = write_config(folder / "config.toml", server.base_url)
    text_ = path.read_text(encoding="utf-8")
    if "[privacy]" in text_:
        text_ = text_.replace("[privacy]\n", f'[privacy]\nmode = "{mode}"\n', 1)
    else:
        text_ += f'\n[privacy]\nmode = "{mode}"\n'
    path.write_text(text_, encoding="utf-8")
    return path


def socialdesk(command: str, config: Path, log: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "socialdesk", command, "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=log,
        env={**os.environ, SANDBOX_TOKEN_ENV: "crash-soak"},
    )


def traffic(server: SandboxServer, rate: float, stop: threading.Event) -> None:
    interval, next_at = 1 / rate, time.monotonic()
    while not stop.is_set():
        server.generate(1)
        next_at += interval
        stop.wait(max(0.0, next_at - time.monotonic()))


def kill_rounds(config: Path, rounds: int, rng: random.Random, log: Any) -> Counter[str]:
    killed: Counter[str] = Counter()
    for _ in range(rounds):
        command = rng.choice(["sync", "run"])
        process = socialdesk(command, config, log)
        time.sleep(rng.uniform(0.3, 4.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed[f"{command} killed"] += 1
        else:
            killed[f"{command} finished first"] += 1
        process.wait()
    return killed


def soak_mode(mode: str, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    limits = {key: value * LIMIT_FACTOR for key, value in DEFAULT_LIMITS.items()}
    with tempfile.TemporaryDirectory() as folder, SandboxServer(
        seed=args.seed, static=True, messages=args.messages, rate_limits=limits
    ) as server:
        server.start()
        config = configure(server, Path(folder), mode)
        stop = threading.Event()
        writer = threading.Thread(target=traffic, args=(server, args.rate, stop))
        writer.start()
        with open(Path(folder) / "soak.log", "wb") as log:
            killed = kill_rounds(config, args.rounds, rng, log)
            stop.set()
            writer.join()
            started = time.monotonic()
            clean = socialdesk("sync", config, log)
            clean.wait()
            clean_seconds = time.monotonic() - started
        held = sandbox_items(server)
        after = store_figures(Path(folder) / "socialdesk.db")
        twice = writes_twice(server)
        baseline = baseline_figures(server, Path(folder), mode)
    stored = sum(1 for key in held if key in after["keys"])  # type: ignore[operator]
    missing = Counter(channel for key, channel in held.items()
                      if key not in after["keys"])  # type: ignore[operator]
    base = sum(1 for key in held if key in baseline["keys"])  # type: ignore[operator]
    print(f"[{mode}] {', '.join(f'{n} {what}' for what, n in sorted(killed.items()))}; "
          f"clean sync exit {clean.returncode} in {clean_seconds:.1f} s")
    print(f"[{mode}] sandbox holds {len(held)}; stored {stored}; missing "
          f"{sum(missing.values())} {dict(missing) or ''}; duplicates {after['duplicates']}; "
          f"public personal data undecided {after['undecided']}; redirects under way "
          f"{after['in_flight']}; writes received twice {twice}")
    print(f"[{mode}] baseline, one uninterrupted sync: stored {base} of {len(held)}, undecided "
          f"{baseline['undecided']}; stored after crashes / baseline = "
          f"{stored / max(1, base):.3f}")


def baseline_figures(server: SandboxServer, folder: Path, mode: str) -> dict[str, int]:
    """The same sandbox, one sync into a fresh database (after the writes were counted)."""
    fresh = folder / "baseline"
    fresh.mkdir()
    config = configure(server, fresh, mode)
    with open(fresh / "sync.log", "wb") as log:
        socialdesk("sync", config, log).wait()
    return store_figures(fresh / "socialdesk.db")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12, help="processes killed per mode")
    parser.add_argument("--rate", type=float, default=20, help="customer items per second")
    parser.add_argument("--messages", type=int, default=400, help="items before the traffic")
    parser.add_argument("--mode", choices=["suggest", "auto", "both"], default="both")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for mode in (["suggest", "auto"] if args.mode == "both" else [args.mode]):
        soak_mode(mode, args)


if __name__ == "__main__":
    main()
