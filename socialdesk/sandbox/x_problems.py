"""How the X emulator refuses: `application/problem+json` bodies and the request checks.

Every check raises a `Refusal` carrying the finished response X would send for the same
mistake (an unknown query parameter, a `max_results` out of range, an unreadable token).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socialdesk.sandbox.wire import Request, Response, decode_cursor, parse_time

PROBLEMS = "https://api.x.com/2/problems/"
MENTIONS_PARAMS = frozenset(
    {
        "end_time",
        "expansions",
        "max_results",
        "media.fields",
        "pagination_token",
        "place.fields",
        "poll.fields",
        "since_id",
        "start_time",
        "tweet.fields",
        "post.fields",
        "until_id",
        "user.fields",
    }
)
DM_PARAMS = frozenset(
    {
        "dm_event.fields",
        "event_types",
        "expansions",
        "max_results",
        "media.fields",
        "pagination_token",
        "tweet.fields",
        "user.fields",
    }
)
EVENT_TYPES = ("MessageCreate", "ParticipantsJoin", "ParticipantsLeave")
PERMISSIONS_REFUSAL = (
    "Your client app is not configured with the appropriate oauth1 app permissions "
    "for this endpoint."
)


class Refusal(Exception):
    """A request X would refuse; carries the finished error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def problem(
    status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any
) -> Response:
    """An X error body: `application/problem+json` with title, detail, type and status."""
    body = {
        "title": title,
        "detail": detail,
        "type": kind if kind == "about:blank" else PROBLEMS + kind,
        "status": status,
        **extra,
    }
    return Response(status, body, content_type="application/problem+json")


def invalid_param(name: str, value: str, message: str) -> Refusal:
    return _invalid_request({"parameters": {name: [value]}, "message": message})


def invalid_body(message: str) -> Refusal:
    """A JSON body field X would refuse (empty text, a non-boolean `hidden`)."""
    return _invalid_request({"message": message})


def _invalid_request(error: dict[str, Any]) -> Refusal:
    return Refusal(
        problem(
            400,
            "Invalid Request",
            "One or more parameters to your request was invalid.",
            "invalid-request",
            errors=[error],
        )
    )


def fields(request: Request, name: str) -> set[str]:
    """The comma-separated names of a `*.fields` or `expansions` parameter."""
    return {f for f in request.query.get(name, "").split(",") if f}


def json_object(request: Request) -> dict[str, Any]:
    """The JSON object of a write's body; X refuses any other body."""
    body = request.json_body()
    if not isinstance(body, dict):
        raise Refusal(
            problem(
                400, "Invalid Request", "Request body is not a JSON object.", "invalid-request"
            )
        )
    return body


def check_params(request: Request, allowed: frozenset[str]) -> None:
    for name in request.query:
        if name not in allowed:
            raise invalid_param(
                name,
                request.query[name],
                f"The query parameter [{name}] is not one of [{','.join(sorted(allowed))}]",
            )


def max_results(request: Request, low: int, high: int, default: int) -> int:
    raw = request.query.get("max_results")
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid_param(
            "max_results",
            raw,
            f"The `max_results` query parameter value [{raw}] is not between {low} and {high}",
        )
    return int(raw)


def id_param(request: Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise invalid_param(
            name,
            raw,
            f"The `{name}` query parameter value [{raw}] does not match ^[0-9]{{1,19}}$",
        )
    return int(raw)


def time_param(request: Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    moment = parse_time(raw) if not raw.isdigit() else None
    if moment is None:
        raise invalid_param(
            name,
            raw,
            f"Invalid '{name}':'{raw}'. '{name}' must be a "
            "date in ISO 8601 format (YYYY-MM-DDTHH:mm:ssZ).",
        )
    return moment


def pagination_after(request: Request, kind: str) -> str | None:
    raw = request.query.get("pagination_token")
    if raw is None:
        return None
    item_id = decode_cursor(kind, raw)
    if item_id is None or not item_id.isdigit():
        raise invalid_param(
            "pagination_token",
            raw,
            f"The `pagination_token` query parameter value [{raw}] is not valid",
        )
    return item_id


def event_types(request: Request) -> set[str]:
    raw = request.query.get("event_types")
    if raw is None:
        return set(EVENT_TYPES)
    wanted = {t for t in raw.split(",") if t}
    for name in wanted - set(EVENT_TYPES):
        raise invalid_param(
            "event_types",
            name,
            f"The `event_types` query parameter "
            f"value [{name}] is not one of [{', '.join(EVENT_TYPES)}]",
        )
    return wanted


def user_not_found(user_id: str) -> dict[str, Any]:
    return {
        "value": user_id,
        "detail": f"Could not find user with id: [{user_id}].",
        "title": "Not Found Error",
        "resource_type": "user",
        "parameter": "id",
        "resource_id": user_id,
        "type": PROBLEMS + "resource-not-found",
    }


def require_text(text: object) -> str:
    """The text of a post or DM; X refuses one without text."""
    if not isinstance(text, str) or not text.strip():
        raise invalid_body("text must be a non-empty string")
    return text
