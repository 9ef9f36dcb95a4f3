"""Rate-limit bookkeeping: X's per-endpoint 15-minute windows and Graph's usage headers.

X defaults are the current per-user limits from PLATFORMS.md; `rate_limits` overrides
any of them by endpoint id, and `facebook` sets the Graph call budget per hour that the
usage headers report against. `window_seconds` shortens every window (both platforms), so a
test or a user can watch a backfill that needs several windows (`socialdesk sandbox
--rate-window`).
"""

from __future__ import annotations

import json
import math
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

X_WINDOW_SECONDS = 15 * 60
GRAPH_WINDOW_SECONDS = 60 * 60

DEFAULT_LIMITS: dict[str, int] = {
    "x.mentions": 300,
    "x.user_tweets": 900,
    "x.dm_events": 15,
    "x.dm_conversation_events": 15,
    "x.me": 75,
    "x.tweets": 100,
    "x.dm_create": 15,
    "x.hide": 50,
    "facebook": 4800,
}


@dataclass(frozen=True)
class Budget:
    """What the X headers say after one request; `exceeded` means answer 429."""

    limit: int
    remaining: int
    reset: int
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


class RateLimiter:
    """Counts calls per endpoint in fixed windows that open on the first call, like X."""

    def __init__(
        self,
        overrides: Mapping[str, int] | None,
        clock: Callable[[], datetime],
        window_seconds: int | None = None,
    ) -> None:
        if window_seconds is not None and window_seconds < 1:
            raise ValueError("the rate-limit window must be at least 1 second")
        unknown = set(overrides or {}) - set(DEFAULT_LIMITS)
        if unknown:
            raise ValueError(
                f"unknown rate limit keys {sorted(unknown)}; known: {sorted(DEFAULT_LIMITS)}"
            )
        self.limits = {**DEFAULT_LIMITS, **(overrides or {})}
        self._clock = clock
        self.window_seconds = window_seconds
        self.x_window = window_seconds or X_WINDOW_SECONDS
        self.graph_window = window_seconds or GRAPH_WINDOW_SECONDS
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (reset epoch, used)
        self._graph_calls: deque[float] = deque()

    def reset(self, overrides: Mapping[str, int] | None = None) -> None:
        """New limits (defaults plus `overrides`) and every window whole again, as after a
        quarter of an hour of silence: a benchmark backfills fast, then measures."""
        with self._lock:
            self.limits = {**DEFAULT_LIMITS, **(overrides or {})}
            self._windows.clear()
            self._graph_calls.clear()

    def spend(self, key: str) -> Budget:
        """Count one X call against `key` and say whether it is over the budget."""
        now = int(self._clock().timestamp())
        limit = self.limits[key]
        with self._lock:
            reset, used = self._windows.get(key, (0, 0))
            if now >= reset:
                reset, used = now + self.x_window, 0
            exceeded = used >= limit
            if not exceeded:
                used += 1
            self._windows[key] = (reset, used)
        return Budget(limit, max(limit - used, 0), reset, exceeded)

    def peek(self, key: str) -> Budget:
        """The budget without spending, for errors that must still carry the headers."""
        now = int(self._clock().timestamp())
        with self._lock:
            reset, used = self._windows.get(key, (0, 0))
        if now >= reset:
            reset, used = now + self.x_window, 0
        limit = self.limits[key]
        return Budget(limit, max(limit - used, 0), reset, False)

    def graph_call(self) -> tuple[int, bool]:
        """Count one Graph call: the percentage of the hourly budget used, and if it is spent."""
        now = self._clock().timestamp()
        with self._lock:
            self._graph_calls.append(now)
            while self._graph_calls and self._graph_calls[0] <= now - self.graph_window:
                self._graph_calls.popleft()
            calls = len(self._graph_calls)
        budget = max(self.limits["facebook"], 1)
        return min(100, calls * 100 // budget), calls > budget

    @property
    def graph_regain_minutes(self) -> int:
        """Graph's `estimated_time_to_regain_access` for a spent budget: the window, in whole
        minutes (Graph's unit), so a shortened window also shortens Facebook's pause."""
        return math.ceil(self.graph_window / 60)


def graph_usage_headers(
    percent: int, page_id: str, kind: str, regain_minutes: int = 60
) -> dict[str, str]:
    """`X-App-Usage` and `X-Business-Use-Case-Usage` as Graph sends them (percentages)."""
    regain = 0 if percent < 100 else regain_minutes
    app = {"call_count": percent, "total_cputime": max(percent // 2, 0), "total_time": percent}
    buc = {
        page_id: [
            {
                "type": kind,
                "call_count": percent,
                "total_cputime": percent // 2,
                "total_time": percent,
                "estimated_time_to_regain_access": regain,
            }
        ]
    }
    return {
        "X-App-Usage": json.dumps(app, separators=(",", ":")),
        "X-Business-Use-Case-Usage": json.dumps(buc, separators=(",", ":")),
    }
