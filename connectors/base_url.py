"""An account's `base_url`: where its API calls go, checked without loading an HTTP stack
(config validates it on every start, `privacy scan` included)."""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

from connectors.base import ConfigurationError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
"""Host names accepted for plain `http://` base URLs besides loopback IP literals."""


def parse_base_url(base_url: str | None) -> SplitResult | None:
    """Validate an account's `base_url`: https anywhere, plain http only on loopback.

    A token sent over plain HTTP to another machine is a token given away; the sandbox and
    the replay server in tests run on loopback, so that is the only place http is allowed.
    """
    if not base_url:
        return None
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if parts.query or parts.fragment:
        raise ConfigurationError("base_url must not carry a query string or fragment")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigurationError(
            f"plain http:// is accepted only for loopback addresses (127.0.0.1, ::1, "
            f"localhost), not {parts.hostname!r}; use https://"
        )
    return parts


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
