"""The X API v2 subset socialdesk uses, answering with X's real wire shapes.

Routes: `GET /2/users/:id/mentions`, `GET /2/users/:id/tweets`, `GET /2/dm_events`, the two
per-conversation DM lookups, `GET /2/users/me`, `POST /2/tweets`,
`POST /2/dm_conversations/with/:id/messages` (and `/2/dm_conversations/:id/messages`),
`PUT /2/tweets/:id/hidden`. Any non-empty `Authorization` header is accepted (signatures
are never checked: tweepy signs for api.twitter.com before the adapter re-hosts the
request). Errors are
`application/problem+json`; every answer carries the endpoint's `x-rate-limit-*` headers
and the app's `x-access-level` (`read`, `read-write` or `read-write-directmessages`, set by
`access_level`): an app without the DM permission is refused DM reads and sends, a read-only
app every write, with X's `oauth1-permissions` problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from socialdesk.sandbox.backend import Backend, Emulator
from socialdesk.sandbox.faults import (
    OVERSIZED_KINDS,
    PAGE_FAULTS,
    TYPE_FAULTS,
    Fault,
    corrupt_page,
    mistype_page,
    oversized_response,
)
from socialdesk.sandbox.state import (
    ORIGIN_API,
    X_USER_ID,
    X_USERNAME,
    DMEvent,
    Tweet,
    XUser,
    dm_conversation_id,
    iso,
)
from socialdesk.sandbox.wire import (
    Request,
    Response,
    decode_cursor,
    encode_cursor,
    parse_time,
    x_time,
)

PROBLEMS = "https://api.x.com/2/problems/"
MENTIONS_REACH = 800
DM_HISTORY = timedelta(days=30)

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
ACCESS_LEVELS = ("read", "read-write", "read-write-directmessages")
"""X's OAuth 1.0a app permissions as the `x-access-level` header names them."""
DM_ENDPOINTS = frozenset({"x.dm_events", "x.dm_create"})
WRITE_ENDPOINTS = frozenset({"x.tweets", "x.dm_create", "x.hide"})
PERMISSIONS_REFUSAL = (
    "Your client app is not configured with the appropriate oauth1 app permissions "
    "for this endpoint."
)
SUMMONED_REFUSAL = (
    "Reply to this conversation is not allowed because you have not been "
    "mentioned or otherwise engaged by the author of the post you are replying to."
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
    return {f for f in request.query.get(name, "").split(",") if f}


@dataclass(frozen=True)
class Route:
    endpoint: str  # fault target id
    limit_key: str  # rate-limit bucket
    handler: Callable[..., Response]


class XApi(Emulator):
    """Stateless over the shared `Store`: every method takes the store lock it needs.

    `access_level` is the app's permission, as X reports it in `x-access-level`; a test may
    change it on a running server to emulate an app whose permission was lowered.
    """

    def __init__(self, backend: Backend, access_level: str = "read-write-directmessages") -> None:
        super().__init__(backend)
        if access_level not in ACCESS_LEVELS:
            raise ValueError(f"unknown X access level {access_level!r}; one of {ACCESS_LEVELS}")
        self.access_level = access_level
        table: list[tuple[str, str, str, str, Callable[..., Response]]] = [
            # method, path, fault target, rate-limit bucket, handler
            ("GET", r"/2/users/me", "x.me", "x.me", self.me),
            ("GET", r"/2/users/(\d+)/mentions", "x.mentions", "x.mentions", self.mentions),
            ("GET", r"/2/users/(\d+)/tweets", "x.user_tweets", "x.user_tweets",
             self.user_tweets),
            ("GET", r"/2/dm_events", "x.dm_events", "x.dm_events", self.dm_events),
            ("GET", r"/2/dm_conversations/with/(\d+)/dm_events", "x.dm_events",
             "x.dm_conversation_events", self.dm_events_with),
            ("GET", r"/2/dm_conversations/([\d-]+)/dm_events", "x.dm_events",
             "x.dm_conversation_events", self.dm_events_in),
            ("POST", r"/2/tweets", "x.tweets", "x.tweets", self.create_tweet),
            ("POST", r"/2/dm_conversations/with/(\d+)/messages", "x.dm_create", "x.dm_create",
             self.dm_create_with),
            ("POST", r"/2/dm_conversations/([\d-]+)/messages", "x.dm_create", "x.dm_create",
             self.dm_create_in),
            ("PUT", r"/2/tweets/(\d+)/hidden", "x.hide", "x.hide", self.hide),
        ]
        self.routes: list[tuple[str, re.Pattern[str], Route]] = [
            (method, re.compile(path), Route(endpoint, bucket, handler))
            for method, path, endpoint, bucket, handler in table
        ]

    # -- dispatch -----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        matched = self._match(request)
        if matched is None:
            return problem(404, "Not Found", "Not Found")
        route, args = matched
        if not (request.header("authorization") or "").strip():
            return problem(401, "Unauthorized", "Unauthorized")
        refusal = self._permission_refusal(request, route)
        if refusal is not None:
            refusal.headers.update(self._common_headers(request))
            return refusal
        taken = self.faults.take(route.endpoint, paged="pagination_token" in request.query)
        if taken is not None and taken[0].kind not in (*PAGE_FAULTS, "repeat_token"):
            response = self._fault_response(taken[0], route)
            response.headers.update(self._common_headers(request))
            return response
        budget = self.limiter.spend(route.limit_key)
        if budget.exceeded:
            response = problem(429, "Too Many Requests", "Too Many Requests")
        else:
            try:
                response = route.handler(request, *args)
            except Refusal as refusal:
                response = refusal.response
            if taken is not None and taken[0].kind == "repeat_token":
                response = _repeat_token(response, request)
            elif taken is not None:
                response = self._malform(response, route, taken)
        response.headers.update(budget.headers())
        response.headers.update(self._common_headers(request))
        return response

    def _match(self, request: Request) -> tuple[Route, tuple[str, ...]] | None:
        for method, pattern, route in self.routes:
            found = pattern.fullmatch(request.path.rstrip("/"))
            if found and method == request.method:
                return route, found.groups()
        return None

    def _level(self, request: Request) -> str:
        """App-only (bearer) calls read only; user-context calls have the app's permission."""
        auth = (request.header("authorization") or "").strip()
        return "read" if auth.lower().startswith("bearer") else self.access_level

    def _permission_refusal(self, request: Request, route: Route) -> Response | None:
        """X's 403 for an endpoint the app's permission does not cover."""
        level = self._level(request)
        lacks_dm = route.endpoint in DM_ENDPOINTS and not level.endswith("directmessages")
        lacks_write = route.endpoint in WRITE_ENDPOINTS and level == "read"
        if not (lacks_dm or lacks_write):
            return None
        return problem(403, "Forbidden", PERMISSIONS_REFUSAL, "oauth1-permissions")

    def _common_headers(self, request: Request) -> dict[str, str]:
        level = self._level(request)
        return {
            "x-access-level": level,
            "api-version": "2.160",
            "cache-control": "no-cache, no-store, max-age=0",
        }

    def _fault_response(self, fault: Fault, route: Route) -> Response:
        if fault.kind in OVERSIZED_KINDS:
            return oversized_response(fault.kind)
        if fault.kind == "timeout":
            return Response(0, drop_after=self.timeout_seconds)
        if fault.kind == "rate_limit":
            response = problem(429, "Too Many Requests", "Too Many Requests")
            budget = self.limiter.peek(route.limit_key)
            response.headers.update(
                {
                    "x-rate-limit-limit": str(budget.limit),
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(budget.reset),
                }
            )
            return response
        if fault.kind == "expired_token":
            return problem(401, "Unauthorized", "Unauthorized")
        return problem(503, "Service Unavailable", "Service Unavailable")

    @staticmethod
    def _malform(response: Response, route: Route, taken: tuple[Fault, int]) -> Response:
        """Break one item of a list page, or give its fields the wrong type (`TYPE_FAULTS`);
        `malformed` makes a write answer a body without its ids."""
        (fault, serial) = taken
        if response.status != 200 or not isinstance(response.body, dict):
            return response
        listing = route.endpoint in ("x.mentions", "x.dm_events")
        if fault.kind in TYPE_FAULTS:
            if listing:
                response.body, _ = mistype_page(response.body, fault.kind, serial)
        elif listing:
            response.body, _ = corrupt_page(response.body, "text", "created_at", serial)
        else:
            response.body = {"data": {}}
        return response

    # -- reads --------------------------------------------------------------------------

    def me(self, request: Request) -> Response:
        with self.store.lock:
            user = self.store.x_users[X_USER_ID]
            return Response(200, {"data": self._user_json(user, fields(request, "user.fields"))})

    def mentions(self, request: Request, user_id: str) -> Response:
        self._check_params(request, MENTIONS_PARAMS)
        size = self._max_results(request, 5, 100, 10)
        since, until = self._id_param(request, "since_id"), self._id_param(request, "until_id")
        start, end = self._time_param(request, "start_time"), self._time_param(request, "end_time")
        after = self._token(request, "mentions")
        with self.store.lock:
            user = self.store.x_users.get(user_id)
            if user is None:
                return Response(200, {"errors": [self._user_not_found(user_id)]})
            found = self._mentions_of(user)[:MENTIONS_REACH]
            found = [
                t
                for t in found
                if (since is None or int(t.id) > since)
                and (until is None or int(t.id) < until)
                and (start is None or t.created_at >= start)
                and (end is None or t.created_at < end)
                and (after is None or int(t.id) < int(after))
            ]
            page, more = found[:size], len(found) > size
            return Response(200, self._tweet_page(request, page, more))

    def user_tweets(self, request: Request, user_id: str) -> Response:
        """A user's own posts, newest first (the outbox looks for its replies here)."""
        self._check_params(request, MENTIONS_PARAMS | {"exclude"})
        size = self._max_results(request, 5, 100, 10)
        since = self._id_param(request, "since_id")
        start = self._time_param(request, "start_time")
        after = self._token(request, "mentions")
        with self.store.lock:
            found = sorted(
                (t for t in self.store.tweets.values()
                 if t.author_id == user_id
                 and (since is None or int(t.id) > since)
                 and (start is None or t.created_at >= start)
                 and (after is None or int(t.id) < int(after))),
                key=lambda t: int(t.id), reverse=True,
            )
            return Response(200, self._tweet_page(request, found[:size], len(found) > size))

    def _mentions_of(self, user: XUser) -> list[Tweet]:
        """Newest first: every post by someone else that names the user."""
        found = [
            t
            for t in self.store.tweets.values()
            if t.author_id != user.id and t.mentions(user.username)
        ]
        return sorted(found, key=lambda t: int(t.id), reverse=True)

    def dm_events(self, request: Request) -> Response:
        return self._dm_page(request, lambda _event: True)

    def dm_events_with(self, request: Request, participant_id: str) -> Response:
        conversation = dm_conversation_id(participant_id, X_USER_ID)
        return self._dm_page(request, lambda event: event.dm_conversation_id == conversation)

    def dm_events_in(self, request: Request, conversation: str) -> Response:
        return self._dm_page(request, lambda event: event.dm_conversation_id == conversation)

    def _dm_page(self, request: Request, keep: Callable[[DMEvent], bool]) -> Response:
        """Newest first, no since_id (X has none), 30 days of history.

        Like the recorded API, a non-empty page always carries `next_token`, even the last
        one; following it past the end gives `{"meta": {"result_count": 0}}`.
        """
        self._check_params(request, DM_PARAMS)
        size = self._max_results(request, 1, 100, 100)
        wanted = self._event_types(request)
        after = self._token(request, "dm")
        horizon = self.clock() - DM_HISTORY
        with self.store.lock:
            events = sorted(
                (
                    e
                    for e in self.store.dm_events.values()
                    if keep(e)
                    and e.event_type in wanted
                    and e.created_at >= horizon
                    and (after is None or int(e.id) < int(after))
                ),
                key=lambda e: int(e.id),
                reverse=True,
            )
            page = events[:size]
            if not page:
                return Response(200, {"meta": {"result_count": 0}})
            event_fields = fields(request, "dm_event.fields")
            body: dict[str, Any] = {"data": [self._event_json(e, event_fields) for e in page]}
            users = self._dm_users(request, page)
            if users:
                body["includes"] = {"users": users}
            meta: dict[str, Any] = {
                "result_count": len(page),
                "next_token": encode_cursor("dm", page[-1].id),
            }
            if after is not None:
                meta["previous_token"] = encode_cursor("dmp", page[0].id)
            body["meta"] = meta
            return Response(200, body)

    # -- writes -------------------------------------------------------------------------

    def create_tweet(self, request: Request) -> Response:
        body = self._json_object(request)
        text = body.get("text")
        reply = body.get("reply") or {}
        target_id = str(reply.get("in_reply_to_tweet_id", "")) or None
        with self.store.lock:
            try:
                _require_text(text)
                target = self._reply_target(target_id) if target_id else None
                self._refuse_duplicate(text)
            except Refusal as refusal:
                self._record(
                    request,
                    "x.reply" if target_id else "x.tweet",
                    body,
                    refusal.response,
                    target_id=target_id,
                    text=text,
                )
                raise
            tweet_id = self.store.ids.snowflake()
            self.store.add_tweet(
                Tweet(
                    id=tweet_id,
                    text=text,
                    author_id=X_USER_ID,
                    created_at=self._now(),
                    conversation_id=target.conversation_id if target else tweet_id,
                    in_reply_to_user_id=target.author_id if target else None,
                    replied_to_id=target.id if target else None,
                    origin=ORIGIN_API,
                )
            )
            response = Response(
                201,
                {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}},
                headers={"location": f"{self.base_url()}/2/tweets/{tweet_id}"},
            )
            self._record(
                request,
                "x.reply" if target else "x.tweet",
                body,
                response,
                assigned_id=tweet_id,
                target_id=target_id,
                text=text,
            )
            return response

    def _reply_target(self, target_id: str) -> Tweet:
        """The post being answered, if a self-serve app may answer it (summoned replies)."""
        target = self.store.tweets.get(target_id)
        if target is None:
            raise Refusal(
                problem(
                    403,
                    "Forbidden",
                    "You attempted to reply to a Tweet that is deleted or not visible to you.",
                )
            )
        parent = self.store.tweets.get(target.replied_to_id or "")
        engaged = (
            target.author_id == X_USER_ID
            or target.mentions(X_USERNAME)
            or (parent is not None and parent.author_id == X_USER_ID)
        )
        if not engaged:
            raise Refusal(problem(403, "Forbidden", SUMMONED_REFUSAL))
        return target

    def _refuse_duplicate(self, text: str) -> None:
        """X refuses a post whose text repeats one of the account's own posts."""
        normalized = " ".join(text.split()).lower()
        for tweet in self.store.tweets.values():
            if tweet.author_id == X_USER_ID and " ".join(tweet.text.split()).lower() == normalized:
                raise Refusal(
                    problem(
                        403,
                        "Forbidden",
                        "You are not allowed to create a Tweet with duplicate content.",
                    )
                )

    def dm_create_with(self, request: Request, participant_id: str) -> Response:
        return self._dm_create(
            request, dm_conversation_id(participant_id, X_USER_ID), participant_id
        )

    def dm_create_in(self, request: Request, conversation: str) -> Response:
        return self._dm_create(request, conversation, None)

    def _dm_create(self, request: Request, conversation: str, participant: str | None) -> Response:
        body = self._json_object(request)
        text = body.get("text")
        with self.store.lock:
            try:
                _require_text(text)
                self._check_dm_allowed(conversation, participant)
            except Refusal as refusal:
                self._record(
                    request, "x.dm", body, refusal.response, target_id=conversation, text=text
                )
                raise
            event_id = self.store.ids.snowflake()
            self.store.add_dm(
                DMEvent(
                    id=event_id,
                    event_type="MessageCreate",
                    sender_id=X_USER_ID,
                    created_at=self._now(),
                    dm_conversation_id=conversation,
                    text=text,
                    origin=ORIGIN_API,
                )
            )
            response = Response(
                201,
                {"data": {"dm_conversation_id": conversation, "dm_event_id": event_id}},
                headers={"location": f'{self.base_url()}/2/dm_events/"{event_id}"'},
            )
            self._record(
                request,
                "x.dm",
                body,
                response,
                assigned_id=event_id,
                target_id=conversation,
                text=text,
            )
            return response

    def _check_dm_allowed(self, conversation: str, participant: str | None) -> None:
        known = any(e.dm_conversation_id == conversation for e in self.store.dm_events.values())
        if participant is None and not known:
            raise Refusal(
                problem(403, "Forbidden", "You are not a participant in this conversation.")
            )
        user = self.store.x_users.get(participant or "")
        if user is not None and not user.accepts_dms and not known:
            raise Refusal(problem(403, "Forbidden", "You cannot send messages to this user."))

    def hide(self, request: Request, tweet_id: str) -> Response:
        body = self._json_object(request)
        hidden = body.get("hidden")
        with self.store.lock:
            tweet = self.store.tweets.get(tweet_id)
            try:
                if not isinstance(hidden, bool):
                    raise invalid_body("hidden must be a boolean")
                if tweet is None:
                    raise Refusal(
                        problem(
                            404,
                            "Not Found Error",
                            f"Could not find tweet with id: [{tweet_id}].",
                            "resource-not-found",
                        )
                    )
                root = self.store.tweets.get(tweet.conversation_id)
                if tweet.id == tweet.conversation_id or root is None or root.author_id != X_USER_ID:
                    raise Refusal(
                        problem(
                            403,
                            "Forbidden",
                            "You can only hide or unhide replies to conversations you authored.",
                        )
                    )
            except Refusal as refusal:
                self._record(request, "x.hide", body, refusal.response, target_id=tweet_id)
                raise
            tweet.hidden = hidden
            response = Response(200, {"data": {"hidden": hidden}})
            self._record(request, "x.hide", body, response, target_id=tweet_id)
            return response

    # -- helpers ------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def _record(
        self, request: Request, kind: str, body: dict[str, Any], response: Response, **details: Any
    ) -> None:
        ok = 200 <= response.status < 300
        self.store.record_action(
            {
                "platform": "x",
                "kind": kind,
                "method": request.method,
                "path": request.path,
                "body": body,
                "status": response.status,
                "ok": ok,
                "assigned_id": details.pop("assigned_id", None),
                "error": None if ok else response.body,
                "received_at": iso(self.clock()),
                **details,
            }
        )

    @staticmethod
    def _json_object(request: Request) -> dict[str, Any]:
        body = request.json_body()
        if not isinstance(body, dict):
            raise Refusal(
                problem(
                    400, "Invalid Request", "Request body is not a JSON object.", "invalid-request"
                )
            )
        return body

    @staticmethod
    def _check_params(request: Request, allowed: frozenset[str]) -> None:
        for name in request.query:
            if name not in allowed:
                raise invalid_param(
                    name,
                    request.query[name],
                    f"The query parameter [{name}] is not one of [{','.join(sorted(allowed))}]",
                )

    @staticmethod
    def _max_results(request: Request, low: int, high: int, default: int) -> int:
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

    @staticmethod
    def _id_param(request: Request, name: str) -> int | None:
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

    @staticmethod
    def _time_param(request: Request, name: str) -> datetime | None:
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

    @staticmethod
    def _token(request: Request, kind: str) -> str | None:
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

    @staticmethod
    def _event_types(request: Request) -> set[str]:
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

    def _user_not_found(self, user_id: str) -> dict[str, Any]:
        return {
            "value": user_id,
            "detail": f"Could not find user with id: [{user_id}].",
            "title": "Not Found Error",
            "resource_type": "user",
            "parameter": "id",
            "resource_id": user_id,
            "type": PROBLEMS + "resource-not-found",
        }

    # -- rendering ----------------------------------------------------------------------

    def _tweet_page(self, request: Request, page: list[Tweet], more: bool) -> dict[str, Any]:
        if not page:
            return {"meta": {"result_count": 0}}
        tweet_fields = fields(request, "tweet.fields") | fields(request, "post.fields")
        body: dict[str, Any] = {"data": [self._tweet_json(t, tweet_fields) for t in page]}
        includes = self._tweet_includes(request, page, tweet_fields)
        if includes:
            body["includes"] = includes
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
        }
        if more:
            meta["next_token"] = encode_cursor("mentions", page[-1].id)
        body["meta"] = meta
        return body

    def _tweet_includes(
        self, request: Request, page: list[Tweet], tweet_fields: set[str]
    ) -> dict[str, Any]:
        expansions = fields(request, "expansions")
        user_ids: list[str] = []
        if "author_id" in expansions:
            user_ids += [t.author_id for t in page]
        if "in_reply_to_user_id" in expansions:
            user_ids += [t.in_reply_to_user_id for t in page if t.in_reply_to_user_id]
        includes: dict[str, Any] = {}
        users = self._users_json(user_ids, fields(request, "user.fields"))
        if users:
            includes["users"] = users
        if "referenced_tweets.id" in expansions:
            referenced = [
                self.store.tweets[t.replied_to_id]
                for t in page
                if t.replied_to_id in self.store.tweets
            ]
            if referenced:
                includes["tweets"] = [self._tweet_json(t, tweet_fields) for t in referenced]
        return includes

    def _tweet_json(self, tweet: Tweet, wanted: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": tweet.id,
            "text": tweet.text,
            "edit_history_tweet_ids": [tweet.id],
        }
        optional: dict[str, Any] = {
            "author_id": tweet.author_id,
            "created_at": x_time(tweet.created_at),
            "conversation_id": tweet.conversation_id,
            "in_reply_to_user_id": tweet.in_reply_to_user_id,
            "referenced_tweets": (
                [{"type": "replied_to", "id": tweet.replied_to_id}] if tweet.replied_to_id else None
            ),
            "lang": tweet.lang,
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            },
            "entities": self._entities(tweet),
        }
        for name in sorted(wanted & set(optional)):
            if optional[name] is not None:
                out[name] = optional[name]
        return out

    def _entities(self, tweet: Tweet) -> dict[str, Any] | None:
        by_name = {u.username.lower(): u for u in self.store.x_users.values()}
        mentions = []
        for found in re.finditer(r"@(\w{1,15})", tweet.text):
            user = by_name.get(found.group(1).lower())
            entry = {"start": found.start(), "end": found.end(), "username": found.group(1)}
            if user:
                entry["id"] = user.id
            mentions.append(entry)
        return {"mentions": mentions} if mentions else None

    def _event_json(self, event: DMEvent, wanted: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": event.id, "event_type": event.event_type}
        if event.text is not None:
            out["text"] = event.text
        optional = {
            "sender_id": event.sender_id,
            "created_at": x_time(event.created_at),
            "dm_conversation_id": event.dm_conversation_id,
            "participant_ids": list(event.participant_ids) or None,
        }
        for name in sorted(wanted & set(optional)):
            if optional[name] is not None:
                out[name] = optional[name]
        return out

    def _dm_users(self, request: Request, page: list[DMEvent]) -> list[dict[str, Any]]:
        expansions = fields(request, "expansions")
        user_ids: list[str] = []
        if "sender_id" in expansions:
            user_ids += [e.sender_id for e in page]
        if "participant_ids" in expansions:
            user_ids += [p for e in page for p in e.participant_ids]
        return self._users_json(user_ids, fields(request, "user.fields"))

    def _users_json(self, user_ids: list[str], wanted: set[str]) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        for user_id in user_ids:
            user = self.store.x_users.get(user_id)
            if user is not None and user_id not in seen:
                seen[user_id] = self._user_json(user, wanted)
        return list(seen.values())

    @staticmethod
    def _user_json(user: XUser, wanted: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        optional = {
            "created_at": x_time(user.created_at),
            "description": "",
            "protected": False,
            "verified": False,
            "profile_image_url": "https://pbs.twimg.com/profile_images/default_normal.png",
        }
        for name in sorted(wanted & set(optional)):
            out[name] = optional[name]
        return out


def _repeat_token(response: Response, request: Request) -> Response:
    """A `repeat_token` fault: the page names, as its next page, the page just served."""
    if response.status == 200 and isinstance(response.body, dict):
        meta = response.body.setdefault("meta", {})
        meta["next_token"] = request.query["pagination_token"]
    return response


def _require_text(text: object) -> None:
    """X refuses a post or DM without text."""
    if not isinstance(text, str) or not text.strip():
        raise invalid_body("text must be a non-empty string")
