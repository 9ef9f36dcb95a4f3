"""The HTTP policy every connector shares: base URL, timeout, retries, rate limits, redaction.

Both platforms are reached through `requests` (tweepy builds on it too), so the rules live
here once: where a request may go, how long it may hang, which failures are worth a second
try, what the rate-limit headers say, and what may never appear in an error or log line.
"""

from __future__ import annotations

import logging
import random
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from connectors.base import (
    ConnectorError,
    FatalAPIError,
    RetriableAPIError,
    SendOutcomeUnknown,
    utc_now,
)
from connectors.base_url import parse_base_url
from connectors.rate_headers import header_int

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 30.0)
"""(connect, read) seconds; tweepy passes no timeout, so a stalled socket would hang a sync."""

REDACTED = "[REDACTED]"

MIN_SECRET_LENGTH = 4
"""Shorter values are not searched for in text: replacing "x" everywhere would garble messages."""

DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024 * 1024
"""A page of 100 tweets or 100 comments with their expansions is well under 1 MB; 20 MB
leaves room for any real page and stops a runaway one (150 MB took 1 GB of memory)."""

READ_CHUNK_BYTES = 64 * 1024


# --- base URL and timeout -------------------------------------------------------------


class ResponseTooLarge(FatalAPIError):
    """A response body over the size cap: refused before it is held in memory whole.

    Retrying would fetch the same page again, so it is fatal for this pass; the stream's
    watermark stays where it was.
    """


class BaseUrlAdapter(HTTPAdapter):
    """Re-hosts requests onto the account's `base_url`, sets a timeout when none was given,
    and reads every body under a size cap.

    tweepy hard-codes `https://api.twitter.com`, and Graph `paging.next` links name the real
    host; mounting this adapter on those prefixes sends both to the sandbox or a replay
    server. With no base URL it changes nothing but the timeout: re-hosting a real, already
    OAuth-signed request would break its signature. The body is read here, as a stream, so
    neither tweepy nor the Graph connector ever holds more than `max_bytes` of it.
    """

    def __init__(
        self,
        base_url: str | None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        super().__init__()
        self.base = parse_base_url(base_url)
        self.timeout = timeout
        self.max_bytes = max_bytes

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if self.base is not None and request.url:
            target = urlsplit(request.url)
            request.url = urlunsplit(
                (
                    self.base.scheme,
                    self.base.netloc,
                    self.base.path.rstrip("/") + target.path,
                    target.query,
                    "",
                )
            )
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        kwargs["stream"] = True
        response = super().send(request, **kwargs)
        try:
            # `Session.send` reads `.content` only when it is not set yet: setting it here
            # means the whole body is never read by anyone else.
            response._content = read_capped(response, self.max_bytes)
        finally:
            response.close()
        return response


def mount_base_url(
    session: requests.Session,
    base_url: str | None,
    prefixes: Iterable[str],
    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> BaseUrlAdapter:
    """Mount one `BaseUrlAdapter` on every real-host prefix of a platform."""
    adapter = BaseUrlAdapter(base_url, max_bytes=max_bytes)
    for prefix in prefixes:
        session.mount(prefix, adapter)
    return adapter


def read_capped(response: requests.Response, max_bytes: int) -> bytes:
    """The body of a streamed response, refused as soon as it passes `max_bytes`.

    A `Content-Length` over the cap is refused before a byte is read; without one, or
    when it lies, the bytes are counted as they come. The count is of the decoded body,
    so a small gzip that unpacks to gigabytes stops at the cap too (urllib3 >= 2.6 bounds
    each decompression step by the chunk asked for).
    """
    declared = header_int(response.headers, "content-length")
    if declared is not None and declared > max_bytes:
        raise ResponseTooLarge(_too_large(response, max_bytes, f"{declared} bytes announced"))
    body = bytearray()
    for chunk in response.iter_content(READ_CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            raise ResponseTooLarge(_too_large(response, max_bytes, "counted while reading"))
    return bytes(body)


def _too_large(response: requests.Response, max_bytes: int, detail: str) -> str:
    """One line naming the endpoint (no query string: it may carry a token) and the cap."""
    parts = urlsplit(response.url or "")
    megabytes = max_bytes / (1024 * 1024)
    return (
        f"the response of {parts.path or '/'} is over the {megabytes:g} MB cap ({detail}); "
        "the page was not read and the stream stays where it was (raise the account's "
        "max_response_mb if such pages are expected)"
    )


def max_response_bytes(options: Mapping[str, Any]) -> int:
    """The cap from an account's `max_response_mb` option, or the default."""
    megabytes = options.get("max_response_mb")
    if isinstance(megabytes, bool) or not isinstance(megabytes, (int, float)) or megabytes <= 0:
        return DEFAULT_MAX_RESPONSE_BYTES
    return int(megabytes * 1024 * 1024)


# --- retries ----------------------------------------------------------------------------


class TransientFailure(Exception):
    """Raised inside a retried call for a failure worth another attempt.

    `error` is what the caller sees once the attempts run out.
    """

    def __init__(self, error: ConnectorError) -> None:
        super().__init__(str(error))
        self.error = error


NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
"""Failures of the transport itself (a body cut short included); tweepy lets them through
as `requests` exceptions."""


@dataclass
class RetryPolicy:
    """Bounded retry with exponential backoff and jitter.

    A sync job must never sleep for long: three attempts with 0.5 s, 1 s waits bound a
    failing call to a few seconds, and the scheduler's next poll is the real retry.
    `sleep` is injectable so tests do not wait.
    """

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt `attempt` (0-based): half fixed, half random."""
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return float(ceiling / 2 + self.jitter() * ceiling / 2)

    def run(self, call: Callable[[], T], what: str, redactor: Redactor) -> T:
        """Run `call`, retrying transient failures; raise the last error if they persist."""
        for attempt in range(self.attempts):
            try:
                return call()
            except TransientFailure as failure:
                final: ConnectorError = failure.error
            except NETWORK_ERRORS as exc:
                final = RetriableAPIError(redactor.redact(f"{what}: {network_failure(exc)}"))
            log.info("%s failed (attempt %d of %d)", what, attempt + 1, self.attempts)
            if attempt + 1 < self.attempts:
                self.sleep(self.delay(attempt))
        raise final


def write_failure(exc: BaseException, what: str, redactor: Redactor) -> ConnectorError:
    """A transport failure during a write: safe to resend only if the request never left.

    A refused or timed-out *connection* means the platform never saw the request; a read
    timeout or a connection dropped after sending means it may have acted on it.
    """
    detail = redactor.redact(f"{what}: {type(exc).__name__}")
    if isinstance(exc, requests.ConnectTimeout) or _refused(exc):
        return RetriableAPIError(f"{detail}: the request never reached the platform")
    return SendOutcomeUnknown(f"{detail}: no answer; the platform may have acted on it")


def _refused(exc: BaseException) -> bool:
    """True when the chain holds a refused connection or a failed name lookup."""
    return any(isinstance(cause, ConnectionRefusedError) or type(cause).__name__ in (
        "NewConnectionError", "NameResolutionError") for cause in _causes(exc))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps, outermost first: urllib3 keeps the cause in `reason`,
    requests in `args[0]`, Python in `__cause__`/`__context__` (ten deep at most)."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return
        yield seen
        if seen.args and isinstance(seen.args[0], BaseException):
            nested: BaseException | None = seen.args[0]
        else:
            nested = seen.__cause__ or seen.__context__
        reason = getattr(seen, "reason", None)
        seen = reason if isinstance(reason, BaseException) else nested


def network_failure(exc: BaseException) -> str:
    """A transport failure in one line a person can act on: where and why, e.g. `cannot
    reach 127.0.0.1:9: connection refused`, not urllib3's ~700 characters of pool, retry
    count and query string."""
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"the answer from {_where(exc)} was cut short"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return f"the answer from {_where(exc)} could not be decoded"
    if isinstance(exc, requests.ReadTimeout):
        return f"{_where(exc)} did not answer in time"
    return f"cannot reach {_where(exc)}: {_why(exc)}"


def _where(exc: BaseException) -> str:
    """host:port of the failed request (the port the scheme implies when none is given)."""
    request = getattr(exc, "request", None)
    parts = urlsplit(getattr(request, "url", None) or "")
    if not parts.hostname:
        return "the platform"
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}" if port else host


def _why(exc: BaseException) -> str:
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if type(cause).__name__ == "NameResolutionError" or isinstance(cause, socket.gaierror):
            return "host name not found"
        if isinstance(cause, requests.exceptions.SSLError):
            return "TLS handshake failed (certificate or protocol)"
        if isinstance(cause, requests.ConnectTimeout | TimeoutError | socket.timeout):
            return "connection timed out"
        if isinstance(cause, ConnectionResetError):
            return "connection reset"
        if isinstance(cause, OSError) and cause.errno is not None and cause.strerror:
            return cause.strerror.lower()
    return type(exc).__name__


# --- redaction ----------------------------------------------------------------------------


_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(access_token=)[^&\s'\"]+", re.IGNORECASE), r"\1" + REDACTED),
    (
        re.compile(r"(['\"]?Authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+", re.IGNORECASE),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9%._~+/=-]+"), r"\1" + REDACTED),
    (
        re.compile(r"(oauth_(?:token|signature|consumer_key|nonce)=\"?)[^\"&,\s]+"),
        r"\1" + REDACTED,
    ),
)


class Redactor:
    """Removes the account's secrets, and anything shaped like a credential, from text.

    Every message a connector builds from foreign text (exception strings carry URLs with
    `access_token=` query parameters) goes through here before it is raised or logged.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        values = {value for value in secrets if value and len(value) >= MIN_SECRET_LENGTH}
        self._secrets = sorted(values, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _TEXT_PATTERNS:
            text = pattern.sub(replacement, text)
        return text


def now_plus(minutes: float, now: Callable[[], datetime] = utc_now) -> datetime:
    """Aware UTC `minutes` from now."""
    return now() + timedelta(minutes=minutes)
