"""What the sandbox answered, per endpoint, and when each live item arrived.

The freshness benchmark and the pacing tests read these: requests, refusals (429) and
resources returned per endpoint (X bills per resource returned: posts and DM events in
`data`), and the instant each live customer item was written, to time how long it took to
be stored. Each page of the account-wide DM list is also kept (`ServedPage`: the size
asked, whether it followed a page token, the ids returned), so the benchmark can say which
poll re-read which event.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from socialdesk.sandbox.wire import Request, Response

X_ENDPOINTS = (
    ("x.mentions", re.compile(r"/2/users/\d+/mentions")),
    ("x.user_tweets", re.compile(r"/2/users/\d+/tweets")),
    ("x.dm_events", re.compile(r"/2/dm_events")),
    ("x.dm_conversation_events", re.compile(r"/2/dm_conversations/.+/dm_events")),
)
GRAPH_EDGE = re.compile(r"/v\d+\.\d+/[^/]+/(\w+)")
KEPT_PAGES = frozenset({"x.dm_events"})
"""The endpoints whose pages are kept one by one (`Traffic.pages`)."""


@dataclass
class EndpointTraffic:
    """One endpoint's answers since the last reset."""

    requests: int = 0
    refused: int = 0
    """429s: the request was over the emulated rate limit."""
    resources: int = 0
    """Objects in the answers' `data` lists: what X bills."""
    distinct: int = 0
    """Of those, how many different ones: X bills a resource read twice in one UTC day
    once."""


@dataclass(frozen=True)
class ServedPage:
    """One answered page of a kept endpoint: what a poll asked and what it got back."""

    max_results: int | None
    """The `max_results` asked (None: the endpoint's default)."""
    followed_token: bool
    """The request carried a `pagination_token`: a later page of the same walk."""
    ids: tuple[str, ...]
    """The ids in `data`, in the order served (newest first)."""
    served_on: date | None = None
    """The UTC day it was served on (the sandbox's clock): X bills an event returned twice
    on one UTC day once."""


class Traffic:
    """Counts every answer by endpoint, and remembers when live items arrived."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._endpoints: dict[str, EndpointTraffic] = {}
        self._seen: dict[str, set[str]] = {}
        self._arrivals: dict[tuple[str, str], datetime] = {}
        self._pages: dict[str, list[ServedPage]] = {}

    def record(self, request: Request, response: Response) -> None:
        data = response.body.get("data") if isinstance(response.body, dict) else None
        endpoint = endpoint_of(request)
        with self._lock:
            counts = self._endpoints.setdefault(endpoint, EndpointTraffic())
            counts.requests += 1
            counts.refused += response.status == 429
            if isinstance(data, list):
                ids = tuple(str(o.get("id")) for o in data if isinstance(o, dict))
                counts.resources += len(data)
                seen = self._seen.setdefault(endpoint, set())
                seen.update(ids)
                counts.distinct = len(seen)
                if endpoint in KEPT_PAGES:
                    self._keep(endpoint, request, ids)
            elif endpoint in KEPT_PAGES and response.status == 200:
                self._keep(endpoint, request, ())

    def _keep(self, endpoint: str, request: Request, ids: tuple[str, ...]) -> None:
        raw = request.query.get("max_results")
        size = int(raw) if raw is not None and raw.isdigit() else None
        day = self._clock().date() if self._clock is not None else None
        page = ServedPage(size, "pagination_token" in request.query, ids, day)
        self._pages.setdefault(endpoint, []).append(page)

    def pages(self, endpoint: str) -> list[ServedPage]:
        """The 200 answers of a kept endpoint since the last reset, in the order served."""
        with self._lock:
            return list(self._pages.get(endpoint, []))

    def arrived(self, items: list[dict[str, Any]], at: datetime) -> None:
        """Live items written at `at` (keyed by platform and id, as the state lists them)."""
        with self._lock:
            for item in items:
                self._arrivals[(item["platform"], item["id"])] = at

    def arrivals(self) -> dict[tuple[str, str], datetime]:
        with self._lock:
            return dict(self._arrivals)

    def counts(self) -> dict[str, EndpointTraffic]:
        with self._lock:
            return {name: EndpointTraffic(c.requests, c.refused, c.resources, c.distinct)
                    for name, c in self._endpoints.items()}

    def reset(self) -> None:
        """Forget the counts (not the arrivals): a benchmark measures from here."""
        with self._lock:
            self._endpoints.clear()
            self._seen.clear()
            self._pages.clear()


def endpoint_of(request: Request) -> str:
    """`x.mentions`, `x.dm_events`, `facebook.feed`…: the rate-limit names of `limits`."""
    path = request.path.rstrip("/")
    for name, pattern in X_ENDPOINTS:
        if pattern.fullmatch(path):
            return name
    if path.startswith("/2/"):
        return "x.other"
    edge = GRAPH_EDGE.match(path)
    return f"facebook.{edge[1]}" if edge else "other"
