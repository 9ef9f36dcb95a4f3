"""A loopback HTTP server that replays recorded responses, for connector tests.

Routes are keyed on method and path, never on host or query (the recordings carry no
query strings and name the real hosts). A leading Graph version segment (`/v10.0`) is
ignored, because recorded `paging.next` links name the version they were recorded with.
Responses recorded more than once for a route are served in order; a request with no
response left gets a 599 and is listed in `unexpected`, so a test can fail on it.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding",
                             "set-cookie", "connection"})
"""Recorded headers that describe the recorded transfer, not this one."""

GRAPH_VERSION_SEGMENT = re.compile(r"^/v\d+\.\d+(?=/)")

EXHAUSTED_STATUS = 599

POLL_INTERVAL = 0.02
"""How often the server checks for shutdown; the default 0.5 s would dominate the suite."""


@dataclass
class Recorded:
    """One response to serve. `declared_length` > len(body) cuts the body short on the wire."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    declared_length: int | None = None


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]

    def param(self, name: str) -> str | None:
        values = [v for k, v in self.query if k == name]
        return values[0] if values else None

    def params(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]


def route_key(method: str, uri_or_path: str) -> tuple[str, str]:
    path = urlsplit(uri_or_path).path or "/"
    return method.upper(), GRAPH_VERSION_SEGMENT.sub("", path)


def body_bytes(body: Any) -> bytes:
    """A recorded body as bytes: text encoded, mappings dumped, gzip streams decompressed."""
    if body is None:
        return b""
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode()
    raw = body.encode() if isinstance(body, str) else bytes(body)
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def load_cassette(path: Path) -> list[tuple[tuple[str, str], Recorded]]:
    """vcrpy-format YAML (tweepy's cassettes and ours) as (route, response) pairs, in order."""
    document = yaml.safe_load(path.read_bytes())
    pairs = []
    for interaction in document["interactions"]:
        request, response = interaction["request"], interaction["response"]
        headers = {
            name.lower(): (values[0] if isinstance(values, list) else str(values))
            for name, values in (response.get("headers") or {}).items()
            if name.lower() not in DROPPED_HEADERS
        }
        recorded = Recorded(
            status=int(response["status"]["code"]),
            headers=headers,
            body=body_bytes((response.get("body") or {}).get("string")),
        )
        pairs.append((route_key(request["method"], request["uri"]), recorded))
    return pairs


class ReplayServer:
    """Serves `Recorded` responses on 127.0.0.1 from a background thread."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], deque[Recorded]] = {}
        self._lock = threading.Lock()
        self.requests: list[SeenRequest] = []
        self.unexpected: list[SeenRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what to serve --------------------------------------------------------------

    def add(self, method: str, path: str, response: Recorded) -> None:
        with self._lock:
            self._routes.setdefault(route_key(method, path), deque()).append(response)

    def add_json(
        self, method: str, path: str, body: Any, status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        all_headers = {"content-type": "application/json", **(headers or {})}
        self.add(method, path, Recorded(status, all_headers, json.dumps(body).encode()))

    def add_cassette(self, path: Path, only: Iterable[str] | None = None) -> None:
        """Queue every interaction of a cassette, or only those whose path is in `only`."""
        wanted = None if only is None else {route_key("GET", p)[1] for p in only}
        for key, recorded in load_cassette(path):
            if wanted is None or key[1] in wanted:
                self.add(key[0], key[1], recorded)

    def paths(self, method: str = "GET") -> list[str]:
        return [r.path for r in self.requests if r.method == method]

    # --- serving ---------------------------------------------------------------------

    def _next_response(self, request: SeenRequest) -> Recorded | None:
        with self._lock:
            self.requests.append(request)
            queue = self._routes.get(route_key(request.method, request.path))
            if not queue:
                self.unexpected.append(request)
                return None
            return queue.popleft()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                seen = SeenRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qsl(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                )
                recorded = server._next_response(seen) or Recorded(
                    EXHAUSTED_STATUS, {"content-type": "application/json"},
                    b'{"replay": "no recorded response left for this route"}',
                )
                if recorded.delay:
                    time.sleep(recorded.delay)
                self.send_response(recorded.status)
                for name, value in recorded.headers.items():
                    self.send_header(name, value)
                declared = recorded.declared_length or len(recorded.body)
                self.send_header("content-length", str(declared))
                if recorded.declared_length:
                    self.send_header("connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(recorded.body)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Silent: the tests read `requests` instead."""

        return Handler
