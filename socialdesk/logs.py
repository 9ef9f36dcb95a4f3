"""Logging that never leaks tokens or customer text from the HTTP libraries.

tweepy logs request headers and whole response bodies at DEBUG, urllib3 logs query
strings (Graph's access_token among them): those loggers stay at INFO whatever level
socialdesk runs at, and every record passes a redaction filter (PLATFORMS.md, tweepy).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from datetime import datetime, tzinfo

CHATTY_LOGGERS = ("tweepy", "urllib3", "requests_oauthlib", "oauthlib")
_SECRET_PATTERNS = (
    re.compile(r"(access_token=)[^&\s'\"]+", re.IGNORECASE),
    re.compile(r"(Authorization['\"]?\s*[:=]\s*['\"]?)[^'\",}]+", re.IGNORECASE),
    re.compile(r"(Bearer\s+)[A-Za-z0-9%._~+/=-]+"),
    re.compile(r"(oauth_(?:token|signature|consumer_key)=\"?)[^\",&\s]+"),
)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets replaced by `***`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for pattern in _SECRET_PATTERNS:
            message = pattern.sub(r"\1***", message)
        record.msg, record.args = message, None
        return True


class ZonedFormatter(logging.Formatter):
    """Stamps each line on the desk's clock, its zone named ("2026-11-30 10:02:11 CET"),
    so `run`'s stamps and the times inside its lines read alike; the machine's own zone
    (often UTC on a server) until the config has said which zone that is."""

    def __init__(self, zone: tzinfo | None = None) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        if self.zone is None:
            return super().formatTime(record, datefmt)
        return datetime.fromtimestamp(record.created, self.zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def stamp_logs_in(zone: tzinfo) -> None:
    """From now on the root logger's lines are stamped in `zone` (once the config is read)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, ZonedFormatter):
            handler.formatter.zone = zone


def configure_logging(
    level: int = logging.WARNING, extra_filters: Iterable[logging.Filter] = ()
) -> None:
    """One stderr handler; secrets redacted, then `extra_filters` (personal data masking)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ZonedFormatter())
    handler.addFilter(RedactingFilter())
    for extra in extra_filters:
        handler.addFilter(extra)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    pin_chatty_loggers()


def pin_chatty_loggers() -> None:
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger(name).level))
