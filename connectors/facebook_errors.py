"""What Graph's refusals mean: `error.code`/`error_subcode` as connector errors.

Mapped by code, never by HTTP status (Graph throttles with a 400); messages pass the
redactor and are cut to `ERROR_MESSAGE_LIMIT`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests

from connectors._http import Redactor, TransientFailure
from connectors.base import (
    AccountSettings,
    AuthExpired,
    ConnectorError,
    FatalAPIError,
    MalformedPayload,
    RateLimited,
    RetriableAPIError,
)
from connectors.rate_headers import graph_usage

RATE_LIMIT_FALLBACK = timedelta(minutes=5)
"""Pause when a throttling error comes without `estimated_time_to_regain_access`."""

AUTH_CODES = frozenset({190, 102})
AUTH_SUBCODES = frozenset({460, 463, 467})
"""460 password changed, 463 expired, 467 invalid: the token is dead."""

THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001})
"""App, user, Page, custom and Business Use Case throttling; 613/80001 are unconfirmed."""

TRANSIENT_CODES = frozenset({1, 2})
"""Unknown error and service unavailable: retry."""
TOO_MUCH_DATA = "reduce the amount of data"
"""Code 1 with this message is not transient: the same request fails again (PLATFORMS.md)."""

PERMISSION_CODES = frozenset({10, 100, *range(200, 300)})

PERMISSION_PATTERN = re.compile(r"\b(pages_[a-z_]+|business_management|read_insights)\b")

ERROR_MESSAGE_LIMIT = 300


class DataTooLarge(ConnectorError):
    """Graph code 1 "Please reduce the amount of data you're asking for": not transient,
    the same request fails again; a smaller page may pass."""


WRITE_REFUSALS = (
    ("code 10/2018278", "outside the messaging window: Messenger allows RESPONSE for 24 hours "
     "after the person's last message and HUMAN_AGENT for 7 days; a private reply only within "
     "7 days of the comment"),
    ("code 10/2018108", "Facebook allows one private reply per comment or post, and one was "
     "already sent"),
    ("code 100/2018001", "no Messenger user with this id"),
    ("code 100/2018292", "this comment or post cannot receive a private reply"),
)


def write_refusal(message: str, what: str) -> str:
    """Graph's refusal of a write, in words an operator can act on."""
    for fragment, reason in WRITE_REFUSALS:
        if fragment in message:
            return f"{reason} (Graph {what}: {fragment})"
    return message


@dataclass(frozen=True)
class GraphErrors:
    """Reads Graph's answers for one account: the JSON object of a success, or the connector
    error its `error` object means; the account names the variable to fix on code 190."""

    account: AccountSettings
    redactor: Redactor
    now: Callable[[], datetime]


    def read(self, response: requests.Response, what: str) -> dict[str, Any]:
        """The JSON object of a success, or the connector error its `error` object means.

        A 200 whose body is not JSON is most often a connection cut mid-body, so it is
        retried, then reported as `MalformedPayload` (the cursor does not move).
        """
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise self._graph_error(body["error"], response, what)
        if response.status_code >= 500:
            raise TransientFailure(
                RetriableAPIError(f"Graph {what}: HTTP {response.status_code}, retries exhausted")
            )
        if not isinstance(body, dict):
            error = MalformedPayload(f"Graph {what}: the response body is not a JSON object")
            if response.ok:
                raise TransientFailure(error)
            raise error
        if not response.ok:
            raise FatalAPIError(f"Graph {what}: HTTP {response.status_code}, no error object")
        return body

    def _graph_error(
        self, error: Mapping[str, Any], response: requests.Response, what: str
    ) -> ConnectorError | TransientFailure:
        """Map `error.code`/`error_subcode`, never the HTTP status: throttling comes as 400."""
        code, subcode = _int_or_none(error.get("code")), _int_or_none(error.get("error_subcode"))
        graph_message = self.redactor.redact(str(error.get("message", "")))[:ERROR_MESSAGE_LIMIT]
        label = f"Graph {what}: code {code}" + (f"/{subcode}" if subcode else "")
        if code in AUTH_CODES or subcode in AUTH_SUBCODES:
            return AuthExpired(self._auth_advice(label))
        if code in THROTTLE_CODES:
            return self._rate_limited(label, response)
        if code == 1 and TOO_MUCH_DATA in graph_message.lower():
            return DataTooLarge(f"{label}: Graph asks for less data per request")
        if code in TRANSIENT_CODES or response.status_code >= 500:
            return TransientFailure(RetriableAPIError(f"{label}, retries exhausted"))
        if error.get("is_transient") is True:
            return self._rate_limited(label, response)
        return FatalAPIError(_fatal_text(label, code, graph_message))

    def _rate_limited(self, label: str, response: requests.Response) -> RateLimited:
        usage = graph_usage(response.headers)
        wait = (
            timedelta(minutes=usage.regain_minutes)
            if usage.regain_minutes and usage.regain_minutes > 0
            else RATE_LIMIT_FALLBACK
        )
        reset_at = self.now() + wait
        return RateLimited(
            f"{label}: Facebook throttled the Page; next poll after {reset_at.isoformat()}",
            reset_at=reset_at,
        )

    def _auth_advice(self, label: str) -> str:
        env_name = str(
            self.account.options.get("page_token_env") or "the variable named by page_token_env"
        )
        return (
            f"{label} for account {self.account.name!r}: the Page token expired or was "
            f"revoked: generate a new Page access token and update {env_name}"
        )


def _fatal_text(label: str, code: int | None, graph_message: str) -> str:
    """Name the permission Graph names, so the user knows what to grant."""
    if code in PERMISSION_CODES:
        permissions = sorted(set(PERMISSION_PATTERN.findall(graph_message)))
        if permissions:
            return (f"{label}: the Page token lacks a permission ({', '.join(permissions)}); "
                    f"Graph says: {graph_message}")
    return f"{label}: Facebook refused the request; Graph says: {graph_message}"


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None

