"""Rate-limit bookkeeping: X's per-endpoint 15-minute windows and Graph's usage headers.

X defaults are the current per-user limits from PLATFORMS.md; `rate_limits` overrides
any of them by endpoint id, and `facebook` sets the Graph call budget per hour that the
usage headers report against.
"""

from __future__ import annotations

import json
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

    def __init__(self, overrides: Mapping[str, int] | None, clock: Callable[[], datetime]) -> None:
        unknown = set(overrides or {}) - set(DEFAULT_LIMITS)
        if unknown:
            raise ValueError(
                f"unknown rate limit keys {sorted(unknown)}; known: {sorted(DEFAULT_LIMITS)}"
            )
        self.limits = {**DEFAULT_LIMITS, **(overrides or {})}
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # key -> (reset epoch, used)
        self._graph_calls: deque[float] = deque()

    def spend(self, key: str) -> Budget:
        """Count one X call against `key` and say whether it is over the budget."""
        now = int(self._clock().timestamp())
        limit = self.limits[key]
        with self._lock:
            reset, used = self._windows.get(key, (0, 0))
            if now >= reset:
                reset, used = now + X_WINDOW_SECONDS, 0
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
            reset, used = now + X_WINDOW_SECONDS, 0
        limit = self.limits[key]
        return Budget(limit, max(limit - used, 0), reset, False)

    def graph_call(self) -> tuple[int, bool]:
        """Count one Graph call: the percentage of the hourly budget used, and if it is spent."""
        now = self._clock().timestamp()
        with self._lock:
            self._graph_calls.append(now)
            while self._graph_calls and self._graph_calls[0] <= now - GRAPH_WINDOW_SECONDS:
                self._graph_calls.popleft()
            calls = len(self._graph_calls)
        budget = max(self.limits["facebook"], 1)
        return min(100, calls * 100 // budget), calls > budget


def graph_usage_headers(percent: int, page_id: str, kind: str) -> dict[str, str]:
    """`X-App-Usage` and `X-Business-Use-Case-Usage` as Graph sends them (percentages)."""
    regain = 0 if percent < 100 else 60
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
