"""HTTP-level value types shared by the X and Graph emulators.

The emulators are plain functions from `Request` to `Response`, so they can be tested
and faulted without a socket; `server.py` is the only module that touches HTTP.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request; `query` keeps only the last value of a repeated key."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json_body(self) -> Any:
        """The body decoded as JSON, or None when it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Response:
    """What to send back. `drop_after` > 0 means: wait that long, then hang up silently.

    `stream`, when set, makes the body block by block instead of `body` (a page too large
    to hold); it is sent with `stream_length` as Content-Length, or chunked when that is None.
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    drop_after: float = 0.0
    stream: Callable[[], Iterator[bytes]] | None = None
    stream_length: int | None = None

    def encoded_body(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def x_time(moment: datetime) -> str:
    """X API v2 timestamps: millisecond precision with a literal Z."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def graph_time(moment: datetime) -> str:
    """Graph API timestamps: second precision with a +0000 offset (no colon)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_time(value: str) -> datetime | None:
    """Read a unix timestamp or an ISO 8601 time, as Graph's `since` and X's `start_time` accept."""
    value = value.strip()
    if value.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def encode_cursor(kind: str, item_id: str) -> str:
    """Opaque paging token naming the last item of a page, so inserts never shift pages."""
    raw = f"{kind}:{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, token: str) -> str | None:
    """The item id inside a token made by `encode_cursor`, or None if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, item_id = raw.partition(":")
    return item_id if prefix == kind and item_id else None


def build_url(base_url: str, path: str, params: dict[str, str]) -> str:
    return f"{base_url}{path}?{urlencode(params)}"
