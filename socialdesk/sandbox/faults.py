"""Injected failures: which requests fail next, and how a good page is made malformed.

A `Fault` names a target (an endpoint id such as `x.mentions`, a platform wildcard
`x.*`, or `*`) and a kind; it applies to the next `count` requests that match, first
queued first used. The wire modules turn a kind into each platform's real error shape.

`repeat_token` (X list endpoints only) answers a page normally but hands back, as its
`next_token`, the `pagination_token` it was asked with: the walk would loop forever. It
applies only to requests that carry a page token (the second page of a walk onwards).
"""

from __future__ import annotations

import copy
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from socialdesk.sandbox.wire import Response

OVERSIZED_KINDS = ("huge_page", "huge_page_chunked", "gzip_bomb")
"""A 150 MB page: with an honest Content-Length, chunked with none, or gzip-compressed to
a few hundred KB. Made lazily, one block at a time, so the sandbox never holds it."""

TYPE_FAULTS = ("numeric_ids", "non_string_text", "broken_parent")
"""Faults that answer the page with wrong-typed fields (see `mistype_page`)."""
PAGE_FAULTS = ("malformed", *TYPE_FAULTS)
"""Faults that let the request through and spoil the page it answers."""
KINDS = (
    "rate_limit", "server_error", "timeout", "expired_token", *PAGE_FAULTS,
    "paging_loop", "too_much_data", "repeat_token", *OVERSIZED_KINDS,
)
"""`paging_loop`: a list page's next link hands back the cursor of the request (Graph lists,
from a walk's second page on). `too_much_data`: Graph's code 1 "Please reduce the amount of
data you're asking for" for list requests asking for more than `graph_api.DATA_BUDGET`
objects; smaller requests pass and leave the fault queued. `repeat_token`: the X twin of
`paging_loop` (see the module docstring)."""
PAGED_KINDS = frozenset({"repeat_token"})
"""Kinds that need a request with a page token; other requests pass them by."""
REPEAT_TOKEN_TARGETS = frozenset({"x.mentions", "x.dm_events", "x.*"})

# Endpoint ids, as routes report them. Reads first; the writes can be faulted too.
ENDPOINTS = (
    "x.mentions",
    "x.user_tweets",
    "x.dm_events",
    "x.me",
    "x.tweets",
    "x.dm_create",
    "x.hide",
    "facebook.feed",
    "facebook.comments",
    "facebook.conversations",
    "facebook.messages",
    "facebook.object",
    "facebook.reply",
    "facebook.hide",
    "facebook.send",
)
TARGETS = frozenset({*ENDPOINTS, "x.*", "facebook.*", "*"})


@dataclass
class Fault:
    """Fail the next `count` requests matching `target` with `kind`."""

    target: str
    kind: str
    count: int = 1

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"unknown fault target {self.target!r}; one of {sorted(TARGETS)}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {list(KINDS)}")
        if self.kind == "repeat_token" and self.target not in REPEAT_TOKEN_TARGETS:
            raise ValueError(
                f"repeat_token applies to {sorted(REPEAT_TOKEN_TARGETS)}, not {self.target!r}"
            )
        if not isinstance(self.count, int) or self.count < 1:
            raise ValueError("fault count must be a positive integer")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        unknown = set(data) - {"target", "kind", "count"}
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        return cls(
            target=str(data.get("target", "*")),
            kind=str(data.get("kind", "")),
            count=data.get("count", 1),
        )

    def matches(self, endpoint: str) -> bool:
        if self.target == "*" or self.target == endpoint:
            return True
        return self.target.endswith(".*") and endpoint.startswith(self.target[:-1])

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "kind": self.kind, "count": self.count}


class FaultBook:
    """The queue of pending faults; thread-safe, consumed one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []
        self._applied: dict[str, int] = {}

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._pending.append(Fault(fault.target, fault.kind, fault.count))

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.as_dict() for fault in self._pending]

    def take(self, endpoint: str, paged: bool = False) -> tuple[Fault, int] | None:
        """The fault for this request, if any, with its running number among faults of its kind.

        `paged` says the request carries a page token; without one, the kinds that alter
        pagination (`PAGED_KINDS`) wait for a request that does.
        """
        with self._lock:
            for fault in self._pending:
                if fault.matches(endpoint) and (paged or fault.kind not in PAGED_KINDS):
                    fault.count -= 1
                    if fault.count == 0:
                        self._pending.remove(fault)
                    self._applied[fault.kind] = self._applied.get(fault.kind, 0) + 1
                    return fault, self._applied[fault.kind]
        return None

    def put_back(self, fault: Fault) -> None:
        """Undo one `take` of `fault` for a request it does not apply to after all."""
        with self._lock:
            self._applied[fault.kind] = max(0, self._applied.get(fault.kind, 0) - 1)
            if fault in self._pending:
                fault.count += 1
            else:
                self._pending.insert(0, Fault(fault.target, fault.kind, 1))


CORRUPTIONS = ("missing_id", "missing_text", "bad_created_at")


def corrupt_page(
    body: dict[str, Any], text_key: str, time_key: str, serial: int
) -> tuple[dict[str, Any], str | None]:
    """A copy of a 200 list page where one item in the middle is broken.

    The corruption rotates with `serial` (missing id, missing text, garbage timestamp), so
    repeated faults exercise every parser path. Returns the page and what was done, or
    None when the page had no items to break.
    """
    page = copy.deepcopy(body)
    items = page.get("data") or []
    if not items:
        return page, None
    victim = items[len(items) // 2]
    corruption = CORRUPTIONS[(serial - 1) % len(CORRUPTIONS)]
    if corruption == "missing_id":
        victim.pop("id", None)
    elif corruption == "missing_text":
        victim.pop(text_key, None)
    else:
        victim[time_key] = "31/02/2026 25:61"
    return page, corruption


HUGE_PAGE_BYTES = 150 * 1024 * 1024
"""The size of the page that once took a sync 1 GB of memory."""

_HUGE_HEAD = b'{"data":[],"meta":{"result_count":0,"padding":"'
_HUGE_TAIL = b'"}}'
_HUGE_BLOCK = b"x" * (64 * 1024)


def oversized_response(kind: str) -> Response:
    """A 200 whose body is a valid JSON page of `HUGE_PAGE_BYTES`, streamed."""
    if kind == "gzip_bomb":
        return Response(200, headers={"Content-Encoding": "gzip"},
                        stream=lambda: _gzipped(_huge_page()))
    if kind == "huge_page_chunked":
        return Response(200, stream=_huge_page)
    return Response(200, stream=_huge_page, stream_length=HUGE_PAGE_BYTES)


def _huge_page() -> Iterator[bytes]:
    yield _HUGE_HEAD
    left = HUGE_PAGE_BYTES - len(_HUGE_HEAD) - len(_HUGE_TAIL)
    while left > 0:
        block = _HUGE_BLOCK[:left]
        left -= len(block)
        yield block
    yield _HUGE_TAIL


def _gzipped(blocks: Iterator[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
    for block in blocks:
        packed = packer.compress(block)
        if packed:
            yield packed
    yield packer.flush()


NESTED_EDGES = ("comments", "messages")
AUTHOR_KEYS = ("author_id", "sender_id")
TEXT_KEYS = ("text", "message")


def mistype_page(body: dict[str, Any], kind: str, serial: int) -> tuple[dict[str, Any], int]:
    """A copy of a 200 list page with fields of the wrong type, as a proxy that re-encodes
    JSON, or an API change, would send them. Returns the page and how many objects changed.

    - `numeric_ids`: every author id (X `author_id`/`sender_id`, Graph `from.id`, nested
      comments and messages included) becomes a JSON number with a fraction part
      (`104857362918273.0`), as a client that reads every number as a double writes it.
    - `non_string_text`: every text (`text`, `message`) becomes a number (its length).
    - `broken_parent`: the first post that carries comments loses its `created_time`
      (odd serials) or its `id` (even ones); its comments stay good.
    """
    page = copy.deepcopy(body)
    if kind == "broken_parent":
        return page, _break_parent(page, serial)
    changed = 0
    for item in _items(page):
        if kind == "numeric_ids":
            changed += _numeric_author(item)
        elif kind == "non_string_text":
            changed += _numeric_text(item)
    return page, changed


def _items(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's objects and the objects of their inlined edges, in order."""
    found: list[dict[str, Any]] = []
    for entry in page.get("data") or []:
        if not isinstance(entry, dict):
            continue
        found.append(entry)
        for edge in NESTED_EDGES:
            nested = entry.get(edge)
            if isinstance(nested, dict):
                found += [n for n in nested.get("data") or [] if isinstance(n, dict)]
    return found


def _numeric_author(item: dict[str, Any]) -> int:
    holder, key = item, next((k for k in AUTHOR_KEYS if k in item), None)
    if key is None and isinstance(item.get("from"), dict):
        holder, key = item["from"], "id"
    if not key:
        return 0
    value = holder.get(key)
    if not isinstance(value, str) or not value.isdigit():
        return 0
    holder[key] = float(value)
    return 1


def _numeric_text(item: dict[str, Any]) -> int:
    key = next((k for k in TEXT_KEYS if isinstance(item.get(k), str)), None)
    if key is None:
        return 0
    item[key] = len(item[key])
    return 1


def _break_parent(page: dict[str, Any], serial: int) -> int:
    for entry in page.get("data") or []:
        comments = entry.get("comments") if isinstance(entry, dict) else None
        if isinstance(comments, dict) and comments.get("data"):
            if serial % 2:
                entry["created_time"] = "31/02/2026 25:61"
            else:
                entry.pop("id", None)
            return 1
    return 0
