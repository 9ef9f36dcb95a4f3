"""The loopback HTTP server: one port, X under `/2/...`, Graph under `/vNN.0/...`.

`SandboxServer` owns the store, the scenario, the fault book and the rate limiter, and
routes each request to the X emulator, the Graph emulator or the `/__sandbox__/` control
endpoints (state, faults, generate). It serves from a daemon thread so tests and
`socialdesk demo` can run it in-process.
"""

from __future__ import annotations

import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from socialdesk.sandbox.backend import Backend
from socialdesk.sandbox.faults import Fault, FaultBook
from socialdesk.sandbox.graph_api import GraphApi
from socialdesk.sandbox.limits import RateLimiter
from socialdesk.sandbox.scenario import Scenario
from socialdesk.sandbox.state import (
    FACEBOOK_PAGE_ID,
    FACEBOOK_PAGE_NAME,
    X_USER_ID,
    X_USERNAME,
    IdFactory,
    Store,
)
from socialdesk.sandbox.traffic import Traffic
from socialdesk.sandbox.wire import Request, Response
from socialdesk.sandbox.x_api import XApi

_GRAPH_PATH = re.compile(r"/v\d+\.\d+/")
CONTROL = "/__sandbox__"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SandboxServer:
    """A simulated X account and Facebook Page with customers, served on loopback.

    The initial data holds exactly `messages` inbound customer items (mentions, DMs,
    comments, visitor posts, Messenger messages). On top of those it holds the brand's
    own posts and echoes (its replies, DMs and Page comments, which are outbound) and a
    few X `ParticipantsJoin` events, which carry no text. With `static=True` nothing is
    ever added by the server itself; otherwise a background thread adds one customer
    item every `live_interval` seconds, on a fixed schedule (a steady rate), from
    `start()` or from `start_live()`. `generate()` adds items on demand in both modes.
    `traffic` counts the answers per endpoint and keeps when each live item arrived.

    `clock` (keyword-only) replaces the real clock: tests pass a fixed time to compare
    two servers byte for byte. `timeout_seconds` is how long a `timeout` fault holds the
    connection before closing it without an answer. `rate_window` shortens every emulated
    rate-limit window to that many seconds (X's 15 minutes, Graph's hour), so a backfill
    that needs several windows can be watched. `x_access_level` is the X app's permission
    (`read`, `read-write`, `read-write-directmessages`), sent as `x-access-level`.
    """

    def __init__(
        self,
        seed: int = 0,
        static: bool = False,
        messages: int = 60,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: Mapping[str, int] | None = None,
        live_interval: float = 5.0,
        *,
        timeout_seconds: float = 5.0,
        clock: Callable[[], datetime] | None = None,
        rate_window: int | None = None,
        x_access_level: str = "read-write-directmessages",
    ) -> None:
        if messages < 0:
            raise ValueError("messages must be >= 0")
        self.seed, self.static, self.host, self.port = seed, static, host, port
        self.live_interval, self.timeout_seconds = live_interval, timeout_seconds
        self.clock = clock or _utc_now
        self.store = Store(IdFactory(seed))
        self.scenario = Scenario(self.store, seed, self.clock().replace(microsecond=0))
        with self.store.lock:
            self.scenario.seed_history(messages)
        self.faults = FaultBook()
        self.limiter = RateLimiter(rate_limits, self.clock, rate_window)
        backend = Backend(self.store, self.limiter, self.faults, self.clock,
                          lambda: self.base_url, timeout_seconds)
        self.x, self.graph = XApi(backend, x_access_level), GraphApi(backend)
        self.traffic = Traffic(self.clock)
        self.stopping = threading.Event()
        self._live: threading.Thread | None = None
        self._live_stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> str:
        """Bind, serve in a daemon thread, start live traffic unless static; return the URL."""
        if self._httpd is not None:
            return self.base_url
        httpd = _QuietServer((self.host, self.port), _Handler)
        httpd.daemon_threads = True
        httpd.sandbox = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.stopping.clear()
        self._spawn(lambda: httpd.serve_forever(poll_interval=0.1), "sandbox-http")
        if not self.static:
            self.start_live()
        return self.base_url

    def start_live(self, interval: float | None = None) -> None:
        """Add one customer item every `interval` seconds (default `live_interval`) until
        `stop()`; a static sandbox can start its live traffic later, e.g. after a backfill."""
        if interval is not None:
            self.live_interval = interval
        if self._live is not None or self.live_interval <= 0:
            return
        self._live_stop.clear()
        self._live = self._spawn(self._live_loop, "sandbox-live")

    def stop_live(self) -> None:
        """Stop adding live items; the server keeps answering."""
        self._live_stop.set()
        if self._live is not None:
            self._live.join(timeout=5)
            self._live = None

    def stop(self) -> None:
        """Stop serving, wake any connection held by a timeout fault, and release the port."""
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self._drop_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self._live = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    def track(self, connection: socket.socket, alive: bool) -> None:
        """Remember open keep-alive connections, so `stop()` can close them too."""
        with self._connections_lock:
            if alive:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _drop_connections(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _spawn(self, target: Callable[[], None], name: str) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def _live_loop(self) -> None:
        """One item per interval on a fixed schedule: a slow write never lowers the rate."""
        due = time.monotonic()
        while True:
            due += self.live_interval
            self._live_stop.wait(max(0.0, due - time.monotonic()))
            if self.stopping.is_set() or self._live_stop.is_set():
                return
            arrived = self.clock()
            self.traffic.arrived(self.generate(1), arrived)

    # -- control ------------------------------------------------------------------------

    def inject(self, fault: Fault | Mapping[str, Any]) -> Fault:
        """Queue a fault for the next matching requests (see `faults.Fault`)."""
        if not isinstance(fault, Fault):
            fault = Fault.from_dict(dict(fault))
        self.faults.add(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    def generate(self, n: int) -> list[dict[str, Any]]:
        """Add `n` customer items written now, deterministically; return them as state items."""
        with self.store.lock:
            before = {(i["platform"], i["id"]) for i in self.store.snapshot()["items"]}
            for _ in range(n):
                self.scenario.generate(self.clock())
            return [
                i for i in self.store.snapshot()["items"] if (i["platform"], i["id"]) not in before
            ]

    def state(self) -> dict[str, Any]:
        """Every item and every write received, plus the faults still pending."""
        state = self.store.snapshot()
        state["faults"] = self.faults.pending()
        return state

    def info(self) -> dict[str, Any]:
        return {
            "x_user_id": X_USER_ID,
            "x_username": X_USERNAME,
            "facebook_page_id": FACEBOOK_PAGE_ID,
            "facebook_page_name": FACEBOOK_PAGE_NAME,
            "seed": self.seed,
            "static": self.static,
            "rate_limits": self.limiter.limits,
            "rate_window_seconds": {"x": self.limiter.x_window,
                                    "facebook": self.limiter.graph_window},
            "x_access_level": self.x.access_level,
        }

    # -- routing ------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        if request.path == CONTROL or request.path.startswith(CONTROL + "/"):
            return self._control(request)
        if request.path.startswith("/2/"):
            response = self.x.handle(request)
        elif _GRAPH_PATH.match(request.path):
            response = self.graph.handle(request)
        else:
            return Response(404, {"error": f"no sandbox route for {request.path}"})
        self.traffic.record(request, response)
        return response

    def _control(self, request: Request) -> Response:
        route = (request.method, request.path.removeprefix(CONTROL).strip("/"))
        try:
            if route == ("GET", "state"):
                return Response(200, self.state())
            if route in (("GET", ""), ("GET", "info")):
                return Response(200, self.info())
            if route == ("GET", "faults"):
                return Response(200, {"pending": self.faults.pending()})
            if route == ("POST", "faults"):
                return self._post_faults(request)
            if route == ("DELETE", "faults"):
                self.faults.clear()
                return Response(200, {"pending": []})
            if route == ("POST", "generate"):
                body = request.json_body() or {}
                count = body.get("n", 1) if isinstance(body, dict) else None
                if not isinstance(count, int) or count < 0:
                    raise ValueError('generate takes {"n": <non-negative integer>}')
                return Response(201, {"items": self.generate(count)})
        except ValueError as error:
            return Response(400, {"error": str(error)})
        return Response(404, {"error": f"no control route {request.method} {request.path}"})

    def _post_faults(self, request: Request) -> Response:
        body = request.json_body()
        entries = body if isinstance(body, list) else [body]
        if not all(isinstance(entry, dict) for entry in entries):
            raise ValueError("faults take a JSON object or a list of objects")
        faults = [Fault.from_dict(entry) for entry in entries]
        for fault in faults:
            self.faults.add(fault)
        return Response(201, {"pending": self.faults.pending()})


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-request (a sync killed with `kill -9`, a timeout) is normal
    traffic for a platform: no traceback on the sandbox's terminal for it."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP into `Request`s for the sandbox and its `Response`s back into HTTP."""

    protocol_version = "HTTP/1.1"
    server_version = "socialdesk-sandbox/1"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch()

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch()

    def setup(self) -> None:
        super().setup()
        self.server.sandbox.track(self.connection, alive=True)  # type: ignore[attr-defined]

    def finish(self) -> None:
        self.server.sandbox.track(self.connection, alive=False)  # type: ignore[attr-defined]
        super().finish()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silent: the sandbox runs inside tests and the TUI, where stderr noise hurts."""

    def _dispatch(self) -> None:
        sandbox: SandboxServer = self.server.sandbox  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            response = sandbox.dispatch(request)
        except Exception as error:  # noqa: BLE001 - a bug must answer 500, not kill the thread
            response = Response(500, {"error": f"sandbox bug: {type(error).__name__}: {error}"})
        if response.drop_after > 0:
            self._hang_up(sandbox, response.drop_after)
            return
        self._send(response)

    def _hang_up(self, sandbox: SandboxServer, seconds: float) -> None:
        """A `timeout` fault: hold the request, then close the socket without answering."""
        sandbox.stopping.wait(seconds)
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, response: Response) -> None:
        if response.stream is not None:
            self._send_stream(response, response.stream)
            return
        payload = response.encoded_body()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_stream(self, response: Response, blocks: Callable[[], Iterator[bytes]]) -> None:
        """A body made block by block: Content-Length when known, chunked otherwise. A client
        that hangs up part way (it refused the page) ends the connection, not the thread."""
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        if response.stream_length is not None:
            self.send_header("Content-Length", str(response.stream_length))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        chunked = response.stream_length is None
        try:
            for block in filter(None, blocks()):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
