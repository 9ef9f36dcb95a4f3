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
from datetime import timedelta
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
from socialdesk.sandbox.state import X_USER_ID, DMEvent, Tweet, XUser, dm_conversation_id
from socialdesk.sandbox.wire import Request, Response, encode_cursor
from socialdesk.sandbox.x_problems import (
    DM_PARAMS,
    MENTIONS_PARAMS,
    PERMISSIONS_REFUSAL,
    Refusal,
    check_params,
    event_types,
    fields,
    id_param,
    max_results,
    pagination_after,
    problem,
    time_param,
    user_not_found,
)
from socialdesk.sandbox.x_render import XRendering
from socialdesk.sandbox.x_writes import XWrites

MENTIONS_REACH = 800
DM_HISTORY = timedelta(days=30)
ACCESS_LEVELS = ("read", "read-write", "read-write-directmessages")
"""X's OAuth 1.0a app permissions as the `x-access-level` header names them."""
DM_ENDPOINTS = frozenset({"x.dm_events", "x.dm_create"})
WRITE_ENDPOINTS = frozenset({"x.tweets", "x.dm_create", "x.hide"})


@dataclass(frozen=True)
class Route:
    endpoint: str  # fault target id
    limit_key: str  # rate-limit bucket
    handler: Callable[..., Response]


class XApi(XWrites, XRendering, Emulator):
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
        permission_refusal = self._permission_refusal(request, route)
        if permission_refusal is not None:
            permission_refusal.headers.update(self._common_headers(request))
            return permission_refusal
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
        check_params(request, MENTIONS_PARAMS)
        size = max_results(request, 5, 100, 10)
        since, until = id_param(request, "since_id"), id_param(request, "until_id")
        start, end = time_param(request, "start_time"), time_param(request, "end_time")
        after = pagination_after(request, "mentions")
        with self.store.lock:
            user = self.store.x_users.get(user_id)
            if user is None:
                return Response(200, {"errors": [user_not_found(user_id)]})
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
        check_params(request, MENTIONS_PARAMS | {"exclude"})
        size = max_results(request, 5, 100, 10)
        since = id_param(request, "since_id")
        start = time_param(request, "start_time")
        after = pagination_after(request, "mentions")
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
        check_params(request, DM_PARAMS)
        size = max_results(request, 1, 100, 100)
        wanted = event_types(request)
        after = pagination_after(request, "dm")
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


def _repeat_token(response: Response, request: Request) -> Response:
    """A `repeat_token` fault: the page names, as its next page, the page just served."""
    if response.status == 200 and isinstance(response.body, dict):
        meta = response.body.setdefault("meta", {})
        meta["next_token"] = request.query["pagination_token"]
    return response

