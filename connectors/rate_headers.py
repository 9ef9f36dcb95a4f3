"""What the platforms' rate-limit headers say: X's windows and daily caps, Graph's usage.

Every page a connector yields carries a `RateLimitStatus` read from these headers, so the
scheduler can wait for the window that decides the next poll.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import RateLimitStatus

log = logging.getLogger(__name__)


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    """An integer header, or None when missing or not a number."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def epoch_to_utc(seconds: int | None) -> datetime | None:
    """Unix seconds to aware UTC."""
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


X_WINDOWS = ("x-rate-limit", "x-app-limit-24hour", "x-user-limit-24hour")
"""X's header families: the 15-minute window, and the daily caps tweepy ignores."""

X_DAILY_WINDOWS = X_WINDOWS[1:]


def x_window(headers: Mapping[str, str], prefix: str) -> RateLimitStatus | None:
    """One X header family (`<prefix>-limit/-remaining/-reset`) or None when absent."""
    limit = header_int(headers, f"{prefix}-limit")
    remaining = header_int(headers, f"{prefix}-remaining")
    reset = header_int(headers, f"{prefix}-reset")
    if limit is None and remaining is None and reset is None:
        return None
    return RateLimitStatus(limit=limit, remaining=remaining, reset_at=epoch_to_utc(reset))


def x_rate_limit(headers: Mapping[str, str]) -> RateLimitStatus | None:
    """The tightest of X's windows: the one with the fewest calls left.

    The 24-hour caps come in their own headers; when one has fewer calls left than the
    15-minute window, it is the one that decides the next poll.
    """
    windows = [w for prefix in X_WINDOWS if (w := x_window(headers, prefix)) is not None]
    if not windows:
        return None
    tightest = min(windows, key=lambda w: (w.remaining if w.remaining is not None else 1 << 62))
    return replace(tightest, windows=tuple(windows)) if len(windows) > 1 else tightest


def x_daily_exhausted_reset(headers: Mapping[str, str]) -> datetime | None:
    """The latest reset among 24-hour windows with nothing left, if any.

    A 429 with a daily cap at 0 must wait for that cap's reset, not the 15-minute one.
    """
    resets = [
        w.reset_at
        for prefix in X_DAILY_WINDOWS
        if (w := x_window(headers, prefix)) is not None
        and w.remaining == 0
        and w.reset_at is not None
    ]
    return max(resets) if resets else None


GRAPH_USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-business-use-case-usage")
"""Graph's usage headers: percentages of the quota, any of which may be absent."""

GRAPH_USAGE_KEYS = ("call_count", "total_time", "total_cputime")


@dataclass(frozen=True)
class GraphUsage:
    """The highest usage percentage across Graph's headers, and Meta's wait estimate."""

    percent: float | None = None
    regain_minutes: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


def graph_usage(headers: Mapping[str, str]) -> GraphUsage:
    """Parse `X-App-Usage`, `X-Page-Usage` and `X-Business-Use-Case-Usage`, all optional."""
    percents: list[float] = []
    regain: list[float] = []
    for name in GRAPH_USAGE_HEADERS:
        raw = headers.get(name)
        if not raw:
            continue
        try:
            parsed = json.loads(raw)
        except ValueError:
            log.debug("unreadable %s header ignored", name)
            continue
        for entry in _usage_entries(parsed):
            percents.extend(_usage_percents(entry))
            minutes = _number(entry.get("estimated_time_to_regain_access"))
            if minutes is not None:
                regain.append(minutes)
    return GraphUsage(
        percent=max(percents) if percents else None,
        regain_minutes=max(regain) if regain else None,
    )


def _usage_entries(parsed: Any) -> list[Mapping[str, Any]]:
    """Flatten the BUC shape `{object_id: [entry, ...]}` and the flat app/page shape."""
    if not isinstance(parsed, Mapping):
        return []
    if any(key in parsed for key in GRAPH_USAGE_KEYS):
        return [parsed]
    entries: list[Mapping[str, Any]] = []
    for value in parsed.values():
        if isinstance(value, list):
            entries.extend(entry for entry in value if isinstance(entry, Mapping))
    return entries


def _usage_percents(entry: Mapping[str, Any]) -> list[float]:
    return [n for key in GRAPH_USAGE_KEYS if (n := _number(entry.get(key))) is not None]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def graph_rate_limit(usage: GraphUsage, now: datetime) -> RateLimitStatus | None:
    """Graph usage as `RateLimitStatus`: limit 100 (percent), remaining 100 − highest use."""
    if usage.percent is None:
        return None
    reset_at = None
    if usage.regain_minutes:
        reset_at = now + timedelta(minutes=usage.regain_minutes)
    remaining = max(0, 100 - round(usage.percent))
    return RateLimitStatus(limit=100, remaining=remaining, reset_at=reset_at, percent=True)
