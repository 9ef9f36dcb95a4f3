"""Freshness of `socialdesk run` against a live sandbox: adaptive polling beside the fixed
intervals it replaced, measured side by side in the same run.

Two sandboxes with the same seed and a long history (DM history above one page of 100)
are backfilled with `socialdesk sync` (limits raised for it, then every window made whole
again, as after a quiet quarter of an hour). Then each gets customers writing at a steady
rate (`--per-minute`, in real time) while a `socialdesk run` polls it: one with the default
config (adaptive), one as socialdesk polled before (`adaptive_polling = false`, the old
defaults: X mentions 90 s, DMs 180 s, Facebook 120 s). After `--minutes` the customers stop,
the runs get time to store what is left, then SIGTERM.

Prints per channel the p50/p95/max seconds from an item's arrival in the sandbox to its
row in the store, then per stream the requests per new item, X resources returned per new
item (all, and distinct: X bills a resource read twice in one UTC day once) and the 429s
the sandbox answered, for both runs and the ratio baseline / adaptive. Last, issue 16's X DM
line: events returned by the DM endpoint per new DM event stored, raw and as X bills them
(once per UTC day, the backfill's reads included), with the re-reads put down to their
causes (`benchmarks/dm_reads.py`: the first poll, quiet polls, polls that found new events,
widening) and the least those polls could have read.

    .venv/bin/python benchmarks/freshness.py               # 10 minutes
    .venv/bin/python benchmarks/freshness.py --minutes 2   # a quick look
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.dm_reads import dm_lines, dm_reads  # noqa: E402
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config  # noqa: E402
from socialdesk.sandbox.limits import DEFAULT_LIMITS  # noqa: E402
from socialdesk.sandbox.state import X_USER_ID  # noqa: E402
from socialdesk.sandbox.traffic import EndpointTraffic, ServedPage  # noqa: E402
from socialdesk.store.models import Message  # noqa: E402

CHANNELS = ("mention", "dm", "comment", "visitor_post", "messenger")
STREAMS = {  # stream: (the sandbox endpoints it calls, the channels it brings)
    "x mentions": (("x.mentions",), ("mention",)),
    "x dms": (("x.dm_events",), ("dm",)),
    "facebook feed": (("facebook.feed", "facebook.comments"), ("comment", "visitor_post")),
    "facebook messenger": (("facebook.conversations", "facebook.messages"), ("messenger",)),
}
BASELINE_POLLS = {"x": "{ mentions = 90, dms = 180 }",
                  "facebook": "{ feed = 120, messenger = 120 }"}
"""The fixed intervals socialdesk polled at before adaptive polling (its old defaults)."""
BACKFILL_LIMITS = {key: value * 100 for key, value in DEFAULT_LIMITS.items()}
DRAIN_SECONDS = 240
"""After the customers stop: long enough for the baseline's 180 s DM interval plus jitter."""
TOKEN = f"{X_USER_ID}-freshness"


@dataclass
class Desk:
    """One sandbox and the `socialdesk run` polling it."""

    name: str
    folder: Path
    server: SandboxServer
    runner: subprocess.Popen[bytes] | None = None
    live_from: datetime | None = None
    counts: dict[str, EndpointTraffic] = field(default_factory=dict)
    dm_pages: list[ServedPage] = field(default_factory=list)
    backfill_dm_pages: list[ServedPage] = field(default_factory=list)
    """What the backfill's DM pages returned: X does not bill those events again the same
    UTC day."""

    @property
    def database(self) -> Path:
        return self.folder / "socialdesk.db"


def env() -> dict[str, str]:
    return {**os.environ, SANDBOX_TOKEN_ENV: TOKEN}


def prepare(name: str, root: Path, seed: int, history: int, adaptive: bool) -> Desk:
    folder = root / name
    server = SandboxServer(seed=seed, static=True, messages=history,
                           rate_limits=BACKFILL_LIMITS)
    server.start()
    config = write_config(folder / "config.toml", server.base_url)
    if not adaptive:
        text = config.read_text(encoding="utf-8")
        for platform, polls in BASELINE_POLLS.items():
            text = text.replace(f'platform = "{platform}"\n', f'platform = "{platform}"\n'
                                f"poll_seconds = {polls}\nadaptive_polling = false\n")
        config.write_text(text, encoding="utf-8")
    backfill = subprocess.run([sys.executable, "-m", "socialdesk", "sync", "--config",
                               str(config)], capture_output=True, text=True, env=env(),
                              timeout=600)
    if backfill.returncode != 0:
        raise SystemExit(f"{name}: the backfill failed: {backfill.stderr}")
    backfill_pages = server.traffic.pages("x.dm_events")
    server.limiter.reset()
    server.traffic.reset()
    return Desk(name, folder, server, backfill_dm_pages=backfill_pages)


def start(desk: Desk, interval: float) -> None:
    log = open(desk.folder / "run.log", "wb")  # noqa: SIM115 (closed with the process)
    desk.runner = subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "run", "--config", str(desk.folder / "config.toml")],
        stdout=subprocess.DEVNULL, stderr=log, env=env())
    desk.live_from = desk.server.clock()
    desk.server.start_live(interval)


def live_items(desk: Desk) -> dict[tuple[str, str], tuple[str, datetime]]:
    """Customer items written since the run started: key -> (channel, arrival)."""
    arrivals = desk.server.traffic.arrivals()
    return {(item["platform"], item["id"]): (item["channel"], arrivals[key])
            for item in desk.server.state()["items"]
            if (key := (item["platform"], item["id"])) in arrivals
            and item["channel"] in CHANNELS
            and item.get("event_type", "MessageCreate") == "MessageCreate"}


def stored_at(desk: Desk) -> dict[tuple[str, str], datetime]:
    engine = create_engine(f"sqlite:///{desk.database}")
    with Session(engine) as session:
        rows = session.exec(select(Message.platform, Message.external_id, Message.ingested_at))
        found = {(platform, external): at for platform, external, at in rows}
    engine.dispose()
    return found


def new_dm_events(desk: Desk) -> set[str]:
    """Ids of the DM events (any sender) written since the run started: what a poller must
    read once."""
    assert desk.live_from is not None
    since = desk.live_from.replace(microsecond=0)
    return {item["id"] for item in desk.server.state()["items"]
            if item["channel"] == "dm" and item.get("event_type") == "MessageCreate"
            and datetime.fromisoformat(item["created_at"]) >= since}


def stored_dms(desk: Desk) -> int:
    """New DM events stored: the denominator of issue 16's "events returned per new item"."""
    stored = {external for platform, external in stored_at(desk) if platform == "x"}
    return len(new_dm_events(desk) & stored)


def drain(desks: list[Desk], deadline: float) -> None:
    """Wait until every live item is stored, or the deadline."""
    while time.monotonic() < deadline:
        if all(set(live_items(d)) <= set(stored_at(d)) for d in desks):
            return
        time.sleep(5)


def stop(desk: Desk) -> None:
    desk.counts = desk.server.traffic.counts()
    desk.dm_pages = desk.server.traffic.pages("x.dm_events")
    assert desk.runner is not None
    desk.runner.send_signal(signal.SIGTERM)
    desk.runner.wait(120)
    desk.server.stop()


def quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def freshness(desk: Desk) -> dict[str, tuple[list[float], int]]:
    """Per channel: seconds from arrival to storage, and how many were never stored."""
    stored, result = stored_at(desk), {}
    for channel in CHANNELS:
        ages, missing = [], 0
        for key, (item_channel, arrived) in live_items(desk).items():
            if item_channel != channel:
                continue
            if key in stored:
                ages.append((stored[key] - arrived).total_seconds())
            else:
                missing += 1
        result[channel] = (ages, missing)
    return result


def describe(ages: list[float], missing: int) -> str:
    if not ages:
        return f"{'-':>17}"
    text = f"{quantile(ages, 0.5):5.1f} {quantile(ages, 0.95):5.1f} {max(ages):5.1f}"
    return text + (f" ({missing} unstored)" if missing else "")


def stream_figures(desk: Desk) -> dict[str, tuple[float, float, float, int, int]]:
    """Per stream: requests, resources and distinct resources per new item; 429s; new items."""
    channels = [c for c, _ in live_items(desk).values()]
    figures = {}
    for stream, (endpoints, wanted) in STREAMS.items():
        new = sum(channels.count(c) for c in wanted)
        if stream == "x dms":
            new = len(new_dm_events(desk))
        counts = [desk.counts.get(e, EndpointTraffic()) for e in endpoints]
        per = max(new, 1)
        figures[stream] = (sum(c.requests for c in counts) / per,
                           sum(c.resources for c in counts) / per,
                           sum(c.distinct for c in counts) / per,
                           sum(c.refused for c in counts), new)
    return figures


def resources(stream: str, figures: tuple[float, float, float, int, int]) -> str:
    """X bills per resource returned; Graph calls are not billed (the column is blank)."""
    if not stream.startswith("x "):
        return f"{'':15}"
    return f"{figures[1]:6.2f} ({figures[2]:5.2f})"


def report(adaptive: Desk, baseline: Desk, minutes: float, per_minute: float) -> None:
    print(f"\n{minutes:g} min at {per_minute:g} customer items/min; seconds from arrival to "
          "stored, p50 p95 max")
    print(f"{'channel':14} {'n':>4}  {'adaptive':>17}  {'baseline (fixed)':>17}  p95 ratio")
    fresh, base = freshness(adaptive), freshness(baseline)
    for channel in CHANNELS:
        (ages, missing), (base_ages, base_missing) = fresh[channel], base[channel]
        ratio = (f"{quantile(base_ages, 0.95) / quantile(ages, 0.95):6.2f}x"
                 if ages and base_ages else "")
        print(f"{channel:14} {len(ages):4}  {describe(ages, missing)}  "
              f"{describe(base_ages, base_missing)}  {ratio}")
    print("\nper new item: requests; X resources returned (distinct, as X bills a day); 429s")
    ours, theirs = stream_figures(adaptive), stream_figures(baseline)
    for stream in STREAMS:
        a, b = ours[stream], theirs[stream]
        print(f"{stream:19} new {a[4]:3}  adaptive {a[0]:5.2f} req {resources(stream, a)} "
              f"429s {a[3]}  |  baseline {b[0]:5.2f} req {resources(stream, b)} 429s {b[3]}")
    report_dm_reads(adaptive, baseline)


def report_dm_reads(adaptive: Desk, baseline: Desk) -> None:
    """Issue 16's X DM line: events returned by the DM endpoint per new DM event stored,
    raw and as X bills (an event once per UTC day), with where the re-reads came from."""
    print("\nX DM events returned per new DM stored (goal <= 1.1); re-reads by cause:")
    figures = {}
    for desk in (adaptive, baseline):
        reads = dm_reads(desk.dm_pages, new_dm_events(desk), desk.backfill_dm_pages)
        stored = stored_dms(desk)
        figures[desk.name] = (reads.returned / max(stored, 1), reads.billed / max(stored, 1))
        print(f"{desk.name}:")
        print("\n".join(dm_lines(reads, stored)))
    (raw, billed), (base_raw, base_billed) = figures["adaptive"], figures["baseline"]
    print(f"adaptive vs baseline: raw {raw:.2f} vs {base_raw:.2f}, billed {billed:.2f} vs "
          f"{base_billed:.2f}; goal <= 1.1: raw {'met' if raw <= 1.1 else 'not met'}, "
          f"billed {'met' if billed <= 1.1 else 'not met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="minutes of live traffic")
    parser.add_argument("--per-minute", type=float, default=12,
                        help="customer items per minute, over all channels (default: 12)")
    parser.add_argument("--history", type=int, default=800,
                        help="customer items already there (800 gives ~250 DM events)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the configs, databases and run logs in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = args.keep or Path(folder)
        print("backfilling both desks...", flush=True)
        adaptive = prepare("adaptive", root, args.seed, args.history, adaptive=True)
        baseline = prepare("baseline", root, args.seed, args.history, adaptive=False)
        desks = [adaptive, baseline]
        threads = [threading.Thread(target=start, args=(d, 60 / args.per_minute))
                   for d in desks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(f"live for {args.minutes:g} min...", flush=True)
        time.sleep(args.minutes * 60)
        for desk in desks:
            desk.server.stop_live()
        drain(desks, time.monotonic() + DRAIN_SECONDS)
        for desk in desks:
            stop(desk)
        report(adaptive, baseline, args.minutes, args.per_minute)
        for desk in desks:
            log = (desk.folder / "run.log").read_text(errors="replace")
            print(f"{desk.name}: run exit {desk.runner.returncode if desk.runner else '?'}, "
                  f"{log.count('failed')} failed pulls, {log.count('paced')} paced")


if __name__ == "__main__":
    main()
