"""What X's refusals mean: tweepy's HTTP errors as connector errors a person can act on.

Mapped by exception class (status), never by `api_codes`: problem+json 429s have none.
Messages come from the problem's `title` or `detail` and pass the redactor; they never
quote the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
import tweepy  # type: ignore[import-untyped]

from connectors._http import Redactor, TransientFailure
from connectors.base import (
    AccountSettings,
    AuthExpired,
    ConnectorError,
    FatalAPIError,
    MalformedPayload,
    RateLimited,
)
from connectors.rate_headers import epoch_to_utc, header_int, x_daily_exhausted_reset

RATE_LIMIT_FALLBACK = timedelta(minutes=15)
"""X's rate-limit window, used when a 429 names no reset."""

DM_PERMISSION = "Read, write and Direct Messages"
WRITE_PERMISSION = "Read and write"
PERMISSION_ADVICE = (
    "the X app lacks the {permission!r} permission needed for {what}: set it under User "
    "authentication settings in the developer portal, then regenerate the access token and "
    "secret (a token keeps the permission it was made with)"
)
"""X's `oauth1-permissions` 403, in words a person can act on (X docs: app permissions)."""

NETWORK_WRITE_ERRORS: tuple[type[BaseException], ...] = (
    requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
)

NETWORK_READ_ERRORS: tuple[type[BaseException], ...] = (*NETWORK_WRITE_ERRORS, ValueError)
"""A read may also fail on a body that is not JSON; a read is retried, a write never."""


class DuplicatePost(FatalAPIError):
    """X refused a post whose text repeats one of the account's own posts."""


class BadRequest(FatalAPIError):
    """X answered 400: a parameter it does not accept (in a walk, perhaps a stale page token)."""


FORBIDDEN_REASONS = (
    ("duplicate content", DuplicatePost,
     "X refuses a post whose text repeats an earlier post of the account; reword the reply"),
    ("not been mentioned or otherwise engaged", FatalAPIError,
     "X lets this app reply only to posts that mention or quote the account "
     "(summoned-reply rule); answer the post that mentioned the brand, or send a DM"),
    ("cannot send messages to this user", FatalAPIError,
     "the customer does not accept direct messages from the account (their X settings); "
     "ask them in public to follow the account or to write first"),
    ("only hide or unhide replies to conversations you authored", FatalAPIError,
     "X lets the account hide only replies under its own posts"),
    ("deleted or not visible", FatalAPIError,
     "the post being answered is deleted or not visible to the account"),
    ("not a participant", FatalAPIError,
     "the account is not a participant of this direct-message conversation"),
)


def forbidden(exc: tweepy.Forbidden, what: str, redactor: Redactor) -> FatalAPIError:
    """A 403 with the reason a person can act on, from the problem's `detail`."""
    detail = _problem_detail(exc)
    if _is_permission_problem(exc, detail):
        permission = DM_PERMISSION if "direct message" in what else WRITE_PERMISSION
        return FatalAPIError(
            PERMISSION_ADVICE.format(permission=permission, what=what) + f" (X 403 on {what})"
        )
    for fragment, error_type, reason in FORBIDDEN_REASONS:
        if fragment in detail.lower():
            return error_type(f"{reason} (X 403 on {what})")
    return FatalAPIError(f"X refused the {what} (403 {redactor.redact(detail)})".rstrip())


def _is_permission_problem(exc: tweepy.HTTPException, detail: str) -> bool:
    """X's `oauth1-permissions` problem (the app's permission is too low), by type or text;
    v1.1 said "not allowed to access or delete your direct messages" (code 93)."""
    try:
        body = exc.response.json()
    except ValueError:
        body = None
    kind = str(body.get("type", "")) if isinstance(body, dict) else ""
    text = detail.lower()
    return (kind.endswith("/oauth1-permissions") or "oauth1 app permissions" in text
            or "not allowed to access or delete your direct messages" in text)


def _problem_detail(exc: tweepy.HTTPException) -> str:
    """`detail` of a problem+json body, else its title or v1.1 message."""
    try:
        body = exc.response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return problem_title(exc)


@dataclass(frozen=True)
class XErrors:
    """Maps one account's tweepy errors; the account names the variables to fix on a 401."""

    account: AccountSettings
    redactor: Redactor
    now: Callable[[], datetime]

    def from_http(self, exc: tweepy.HTTPException, what: str) -> ConnectorError:
        """Map by exception class (status), never by `api_codes`: problem+json 429s have none."""
        status = status_of(exc)
        detail = self.redactor.redact(problem_title(exc))
        if isinstance(exc, tweepy.TooManyRequests):
            reset_at = self._reset_at(exc)
            return RateLimited(
                f"X rate limit reached for {what}; next poll after {reset_at.isoformat()}",
                reset_at=reset_at,
            )
        if isinstance(exc, tweepy.Unauthorized):
            return AuthExpired(self._auth_advice(what))
        if isinstance(exc, tweepy.Forbidden):
            return forbidden(exc, what, self.redactor)
        if isinstance(exc, tweepy.BadRequest):
            return BadRequest(f"X refused the {what} request ({status} {detail})".rstrip())
        return FatalAPIError(f"X refused the {what} request ({status} {detail})".rstrip())

    def _reset_at(self, exc: tweepy.TooManyRequests) -> datetime:
        """A daily cap at 0 wins; then tweepy's `reset_time`, the header, or 15 minutes."""
        headers = exc.response.headers
        daily = x_daily_exhausted_reset(headers)
        if daily is not None:
            return daily
        window = epoch_to_utc(exc.reset_time) or epoch_to_utc(
            header_int(headers, "x-rate-limit-reset")
        )
        return window or self.now() + RATE_LIMIT_FALLBACK

    def _auth_advice(self, what: str) -> str:
        names = [
            str(self.account.options.get(f"{key}_env") or f"the variable named by {key}_env")
            for key in ("access_token", "access_token_secret")
        ]
        return (
            f"X rejected the credentials of account {self.account.name!r} ({what}, 401): "
            "regenerate the access token and secret in the X developer portal "
            f"(Keys and tokens), then update {names[0]} and {names[1]}"
        )


def decode_body(response: requests.Response, what: str) -> dict[str, Any]:
    """The JSON object of a 200; a truncated body is retried, then reported as malformed."""
    try:
        body = response.json()
    except ValueError:
        raise TransientFailure(
            MalformedPayload(f"X {what}: the response body is not valid JSON")
        ) from None
    if not isinstance(body, dict):
        raise TransientFailure(MalformedPayload(f"X {what}: the response body is not an object"))
    return body


def status_of(exc: tweepy.HTTPException) -> int | None:
    """The HTTP status of a tweepy error, None when it carries no response."""
    return getattr(exc.response, "status_code", None)


def problem_title(exc: tweepy.HTTPException) -> str:
    """`title` of a problem+json body, or the v1.1 `errors[0].message`; never the request."""
    try:
        body = exc.response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("title"), str):
        return str(body["title"])
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", ""))
    return ""

