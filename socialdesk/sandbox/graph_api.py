"""The Graph API subset socialdesk uses, under `/vNN.0/...`, with Graph's wire shapes.

Reads: the Page (`/me`, `/{page-id}`), `/{page-id}/feed` (Page posts and visitor posts)
and `/posts`, `/{post-or-comment-id}/comments`, `/{page-id}/conversations`,
`/{conversation-id}/messages`, and single posts, comments and messages. Writes: comment
replies, hiding, and `/{page-id}/messages` (Messenger sends and private replies) with
Meta's messaging-window rules. Errors are `{"error": {...}}`, usually with HTTP 400.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

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
from socialdesk.sandbox.graph_fields import FieldsError, FieldSpec, parse_fields
from socialdesk.sandbox.limits import graph_usage_headers
from socialdesk.sandbox.state import (
    FACEBOOK_PAGE_ID,
    FACEBOOK_PAGE_NAME,
    ORIGIN_API,
    FBComment,
    FBConversation,
    FBMessage,
    FBPost,
    iso,
)
from socialdesk.sandbox.wire import (
    Request,
    Response,
    build_url,
    decode_cursor,
    encode_cursor,
    graph_time,
    parse_time,
)

_PATH = re.compile(r"/(v\d+\.\d+)/([^/]+)(?:/([^/]+))?/?")
PRIVATE_REPLY_WINDOW = timedelta(days=7)
RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
UNWINDOWED_TAGS = frozenset({"ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"})
OUTSIDE_WINDOW = "(#10) This message is sent outside of allowed window."

DEFAULT_FIELDS = {
    "post": "id,message,created_time",
    "comment": "id,message,created_time,from",
    "conversation": "id,link,updated_time",
    "message": "id,created_time",
    "page": "id,name",
    "app": "id,name,link",
}
SANDBOX_APP_ID = "873465199201443"
SANDBOX_APP_NAME = "Emporio Lumen Desk"
REVIEWABLE_PERMISSIONS = (
    "pages_manage_engagement", "pages_manage_metadata", "pages_messaging",
    "pages_read_engagement", "pages_read_user_content", "pages_show_list",
)
SHAPING_FAULTS = frozenset({*PAGE_FAULTS, "paging_loop", "too_much_data"})
"""Faults that shape an answer (or apply only to some requests) instead of replacing it."""
DATA_BUDGET = 200
"""Objects one request may ask for (its limit times the largest nested limit) while a
`too_much_data` fault is queued; Graph's real threshold is not documented."""
TOO_MUCH_DATA = "Please reduce the amount of data you're asking for, then retry your request"
_NESTED_LIMIT = re.compile(r"\.limit\((\d+)\)")

LIST_TEXT_KEYS = {
    "facebook.feed": ("message", "created_time"),
    "facebook.comments": ("message", "created_time"),
    "facebook.messages": ("message", "created_time"),
    "facebook.conversations": ("snippet", "updated_time"),
}


class GraphError(Exception):
    """A request Graph would refuse, with the fields of its `error` object."""

    def __init__(
        self,
        message: str,
        code: int,
        *,
        status: int = 400,
        kind: str = "OAuthException",
        subcode: int | None = None,
        transient: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.status, self.kind = message, code, status, kind
        self.subcode, self.transient, self.headers = subcode, transient, headers or {}


class GraphApi(Emulator):
    """Routes Graph requests by node id: the Page, a post, a comment, a conversation."""

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self._trace = itertools.count(1)
        self.app_review: dict[str, str] = dict.fromkeys(REVIEWABLE_PERMISSIONS, "live")
        """The app's permissions and their App Review status; "live" is Advanced Access.
        Tests drop some to emulate an app with only Standard Access."""

    # -- dispatch -----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        version, node, edge = self._split(request.path)
        params = self._params(request)
        endpoint = kind = "facebook.object"
        try:
            if version is None:
                raise GraphError("Unknown path components: " + request.path, 2500)
            token = self._token(request, params)
            with self.store.lock:
                endpoint, handler, kind = self._route(request.method, node, edge)
            taken = self.faults.take(endpoint)
            if taken is not None and taken[0].kind not in SHAPING_FAULTS:
                return self._fault_response(taken[0], taken[1], version)
            if taken is not None and not self._fault_applies(taken[0], params):
                self.faults.put_back(taken[0])
                taken = None
            percent, spent = self.limiter.graph_call()
            if spent:
                raise GraphError(
                    "(#32) Page request limit reached",
                    32,
                    transient=True,
                    headers=graph_usage_headers(100, FACEBOOK_PAGE_ID, kind,
                                                self.limiter.graph_regain_minutes),
                )
            context = _Context(
                request.method,
                request.path,
                version,
                node,
                edge or "",
                params,
                token,
                self.base_url,
            )
            if taken is not None and taken[0].kind == "too_much_data":
                raise GraphError(TOO_MUCH_DATA, 1, status=500)
            response = handler(context)
            if taken is not None and taken[0].kind == "paging_loop":
                response = _loop_paging(response, context)
            elif taken is not None:
                response = self._malform(response, endpoint, taken)
            response.headers.update(graph_usage_headers(percent, FACEBOOK_PAGE_ID, kind))
        except GraphError as error:
            response = self._error(error)
        response.headers["facebook-api-version"] = version or "v25.0"
        return response

    @staticmethod
    def _split(path: str) -> tuple[str | None, str, str | None]:
        match = _PATH.fullmatch(path)
        if match is None:
            return None, "", None
        return match.group(1), match.group(2), match.group(3)

    @staticmethod
    def _params(request: Request) -> dict[str, Any]:
        """Query, form and JSON body merged, as Graph accepts parameters in any of them."""
        params: dict[str, Any] = dict(request.query)
        content_type = request.header("content-type") or ""
        if "json" in content_type:
            body = request.json_body()
            if isinstance(body, dict):
                params.update(body)
        elif request.body:
            params.update(
                parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            )
        return params

    @staticmethod
    def _token(request: Request, params: dict[str, Any]) -> str:
        token = str(params.pop("access_token", "") or "")
        if not token:
            scheme, _, value = (request.header("authorization") or "").partition(" ")
            if scheme.lower() in ("bearer", "oauth"):
                token = value.strip()
        if not token:
            raise GraphError("An access token is required to request this resource.", 104)
        return token

    def _route(
        self, method: str, node: str, edge: str | None
    ) -> tuple[str, Callable[..., Response], str]:
        """(fault endpoint id, handler, usage type) for a node and edge; GraphError otherwise."""
        table = self._routes_for(node)
        if table is None:
            verb = "get" if method == "GET" else "post"
            raise GraphError(
                f"Unsupported {verb} request. Object with ID '{node}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation. Please "
                "read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                100,
                kind="GraphMethodException",
                subcode=33,
            )
        node_type, routes = table
        found = routes.get((method, edge or ""))
        if found is None:
            if method == "GET" and edge:
                raise GraphError(
                    f"(#100) Tried accessing nonexisting field ({edge}) on node type ({node_type})",
                    100,
                )
            raise GraphError(
                f"Unsupported {method.lower()} request.",
                100,
                kind="GraphMethodException",
                subcode=33,
            )
        return found

    def _routes_for(
        self, node: str
    ) -> tuple[str, dict[tuple[str, str], tuple[str, Callable[..., Response], str]]] | None:
        if node == "app":
            return "Application", {("GET", ""): ("facebook.object", self.get_app, "pages")}
        if node == SANDBOX_APP_ID:
            return "Application", {
                ("GET", ""): ("facebook.object", self.get_app, "pages"),
                ("GET", "permissions"): ("facebook.object", self.get_app_permissions, "pages"),
            }
        if node in ("me", FACEBOOK_PAGE_ID):
            return "Page", {
                ("GET", ""): ("facebook.object", self.get_page, "pages"),
                ("GET", "feed"): ("facebook.feed", self.get_feed, "pages"),
                ("GET", "posts"): ("facebook.feed", self.get_posts, "pages"),
                ("GET", "conversations"): (
                    "facebook.conversations",
                    self.get_conversations,
                    "messenger",
                ),
                ("POST", "messages"): ("facebook.send", self.send_message, "messenger"),
            }
        if node in self.store.posts:
            return "Post", {
                ("GET", ""): ("facebook.object", self.get_post, "pages"),
                ("GET", "comments"): ("facebook.comments", self.get_comments, "pages"),
                ("POST", "comments"): ("facebook.reply", self.post_comment, "pages"),
                ("POST", ""): ("facebook.hide", self.update_hidden, "pages"),
            }
        if node in self.store.comments:
            return "Comment", {
                ("GET", ""): ("facebook.object", self.get_comment, "pages"),
                ("GET", "comments"): ("facebook.comments", self.get_comments, "pages"),
                ("POST", "comments"): ("facebook.reply", self.post_comment, "pages"),
                ("POST", ""): ("facebook.hide", self.update_hidden, "pages"),
            }
        if node in self.store.conversations:
            return "Conversation", {
                ("GET", ""): ("facebook.object", self.get_conversation, "messenger"),
                ("GET", "messages"): ("facebook.messages", self.get_messages, "messenger"),
            }
        if node in self.store.messages:
            return "Message", {("GET", ""): ("facebook.object", self.get_message, "messenger")}
        return None

    # -- errors and faults --------------------------------------------------------------

    def _fbtrace(self) -> str:
        digest = hashlib.sha1(f"fbtrace-{next(self._trace)}".encode()).digest()
        return "A" + base64.urlsafe_b64encode(digest).decode()[:22]

    def _error(self, error: GraphError) -> Response:
        body: dict[str, Any] = {"message": error.message, "type": error.kind, "code": error.code}
        if error.subcode is not None:
            body["error_subcode"] = error.subcode
        if error.transient is not None:
            body["is_transient"] = error.transient
        body["fbtrace_id"] = self._fbtrace()
        headers = dict(error.headers)
        if error.code == 190 or error.code == 104:
            headers["WWW-Authenticate"] = (
                f'OAuth "Facebook Platform" "invalid_token" "{error.message}"'
            )
        return Response(error.status, {"error": body}, headers=headers)

    def _fault_response(self, fault: Fault, serial: int, version: str) -> Response:
        if fault.kind in OVERSIZED_KINDS:
            return oversized_response(fault.kind)
        if fault.kind == "timeout":
            return Response(0, drop_after=self.timeout_seconds)
        if fault.kind == "rate_limit":
            error = GraphError(
                "(#4) Application request limit reached",
                4,
                transient=True,
                headers=graph_usage_headers(100, FACEBOOK_PAGE_ID, "pages",
                                            self.limiter.graph_regain_minutes),
            )
        elif fault.kind == "expired_token":
            expired = self.clock() - timedelta(hours=1)
            error = GraphError(
                "Error validating access token: Session has expired on "
                f"{expired:%A, %d-%b-%y %H:%M:%S} UTC. The current time is "
                f"{self.clock():%A, %d-%b-%y %H:%M:%S} UTC.",
                190,
                subcode=463,
            )
        elif serial % 2:
            error = GraphError(
                "An unexpected error has occurred. Please retry your request later.",
                2,
                status=500,
                transient=True,
            )
        else:
            error = GraphError("An unknown error has occurred.", 1, status=500, transient=True)
        response = self._error(error)
        response.headers["facebook-api-version"] = version
        return response

    @staticmethod
    def _fault_applies(fault: Fault, params: dict[str, Any]) -> bool:
        """A paging loop needs a cursor to hand back; too much data, a heavy request."""
        if fault.kind == "paging_loop":
            return bool(params.get("after"))
        if fault.kind == "too_much_data":
            return requested_objects(params) > DATA_BUDGET
        return True

    @staticmethod
    def _malform(response: Response, endpoint: str, taken: tuple[Fault, int]) -> Response:
        """Break one item of a list page, or give its fields the wrong type (`TYPE_FAULTS`);
        `malformed` makes a write answer without the id it created."""
        (fault, serial) = taken
        if response.status != 200 or not isinstance(response.body, dict):
            return response
        if fault.kind in TYPE_FAULTS:
            if endpoint in LIST_TEXT_KEYS:
                response.body, _ = mistype_page(response.body, fault.kind, serial)
        elif endpoint in LIST_TEXT_KEYS:
            text_key, time_key = LIST_TEXT_KEYS[endpoint]
            response.body, _ = corrupt_page(response.body, text_key, time_key, serial)
        else:
            response.body = {}
        return response

    # -- reads: the Page ----------------------------------------------------------------

    def get_page(self, ctx: _Context) -> Response:
        full = {
            "id": FACEBOOK_PAGE_ID,
            "name": FACEBOOK_PAGE_NAME,
            "category": "Shopping & retail",
            "link": f"https://www.facebook.com/{FACEBOOK_PAGE_ID}",
            "fan_count": 4812,
        }
        return Response(200, _select(full, ctx.fields("page")))

    def get_app(self, ctx: _Context) -> Response:
        """`/app`: the app the access token belongs to."""
        full = {"id": SANDBOX_APP_ID, "name": SANDBOX_APP_NAME,
                "link": f"https://www.facebook.com/games/?app_id={SANDBOX_APP_ID}"}
        return Response(200, _select(full, ctx.fields("app")))

    def get_app_permissions(self, ctx: _Context) -> Response:
        """`/{app-id}/permissions`: the permissions approved through App Review; only an
        app token (`{app-id}|{app-secret}`) may read them."""
        if not ctx.token.startswith(f"{SANDBOX_APP_ID}|"):
            raise GraphError("(#200) An app access token is required to retrieve "
                             "permissions approved for that app", 200)
        data = [{"permission": name, "status": status}
                for name, status in sorted(self.app_review.items())]
        return Response(200, {"data": data})

    def get_feed(self, ctx: _Context) -> Response:
        return self._post_list(ctx, lambda _post: True)

    def get_posts(self, ctx: _Context) -> Response:
        return self._post_list(ctx, lambda post: post.from_id == FACEBOOK_PAGE_ID)

    def _post_list(self, ctx: _Context, keep: Callable[[FBPost], bool]) -> Response:
        """Newest first by creation; `since`/`until` filter posts only, never their comments."""
        since, until = ctx.time("since"), ctx.time("until")
        with self.store.lock:
            posts = sorted(
                (
                    p
                    for p in self.store.posts.values()
                    if keep(p)
                    and (since is None or p.created_time >= since)
                    and (until is None or p.created_time <= until)
                ),
                key=lambda p: (p.created_time, p.id),
                reverse=True,
            )
            page, paging = self._paginate(ctx, posts, "post", ctx.path(), 25)
            specs = ctx.fields("post")
            return Response(200, _listing([self._post_json(p, specs, ctx) for p in page], paging))

    def get_conversations(self, ctx: _Context) -> Response:
        """Messenger threads by `updated_time`, newest first; `user_id` finds one person's."""
        platform = str(ctx.params.get("platform", "messenger"))
        user_id = ctx.params.get("user_id")
        with self.store.lock:
            found = [
                c
                for c in self.store.conversations.values()
                if platform == "messenger" and (user_id is None or c.user_id == str(user_id))
            ]
            found.sort(key=lambda c: (c.updated_time, c.id), reverse=True)
            page, paging = self._paginate(ctx, found, "conversation", ctx.path(), 25)
            specs = ctx.fields("conversation")
            data = [self._conversation_json(c, specs, ctx) for c in page]
            return Response(200, _listing(data, paging))

    # -- reads: posts, comments, conversations ------------------------------------------

    def get_post(self, ctx: _Context) -> Response:
        with self.store.lock:
            post = self.store.posts[ctx.node]
            return Response(200, self._post_json(post, ctx.fields("post"), ctx))

    def get_comment(self, ctx: _Context) -> Response:
        with self.store.lock:
            comment = self.store.comments[ctx.node]
            return Response(200, self._comment_json(comment, ctx.fields("comment"), ctx))

    def get_conversation(self, ctx: _Context) -> Response:
        with self.store.lock:
            conversation = self.store.conversations[ctx.node]
            return Response(
                200, self._conversation_json(conversation, ctx.fields("conversation"), ctx)
            )

    def get_message(self, ctx: _Context) -> Response:
        with self.store.lock:
            message = self.store.messages[ctx.node]
            return Response(200, _select(self._message_full(message), ctx.fields("message")))

    def get_comments(self, ctx: _Context) -> Response:
        modifiers: dict[str, str] = {
            k: str(ctx.params[k]) for k in ("filter", "order", "limit") if k in ctx.params
        }
        with self.store.lock:
            spec = FieldSpec("comments", modifiers, ctx.fields("comment"))
            listing = self._comments_edge(ctx.node, spec, ctx, top=True)
            return Response(200, listing)

    def get_messages(self, ctx: _Context) -> Response:
        with self.store.lock:
            spec = FieldSpec(
                "messages", {"limit": str(ctx.params.get("limit", 25))}, ctx.fields("message")
            )
            return Response(200, self._messages_edge(ctx.node, spec, ctx, top=True))

    def _comments_edge(
        self, node: str, spec: FieldSpec, ctx: _Context, top: bool
    ) -> dict[str, Any]:
        """A comments listing of a post or a comment, honouring filter, order and limit."""
        stream = spec.modifiers.get("filter", "toplevel") == "stream"
        reverse = spec.modifiers.get("order", "chronological") == "reverse_chronological"
        if node in self.store.posts:
            found = [
                c
                for c in self.store.comments.values()
                if c.post_id == node and (stream or c.parent_id is None)
            ]
        else:
            found = [c for c in self.store.comments.values() if c.parent_id == node]
        found.sort(key=lambda c: (c.created_time, c.id), reverse=reverse)
        sub = spec.subfields if spec.subfields is not None else _parse(DEFAULT_FIELDS["comment"])
        link = {
            "filter": "stream" if stream else "toplevel",
            "order": "reverse_chronological" if reverse else "chronological",
            "fields": _unparse(sub),
        }
        edge_ctx = ctx if top else ctx.nested(link, spec)
        page, paging = self._paginate(edge_ctx, found, "comment", f"/{node}/comments", 25)
        listing = _listing([self._comment_json(c, sub, ctx) for c in page], paging)
        if "summary" in spec.modifiers or (top and "summary" in ctx.params):
            listing["summary"] = {
                "order": link["order"],
                "total_count": len(found),
                "can_comment": True,
            }
        return listing

    def _messages_edge(
        self, conversation_id: str, spec: FieldSpec, ctx: _Context, top: bool
    ) -> dict[str, Any]:
        found = sorted(
            self.store.conversation_messages(conversation_id),
            key=lambda m: (m.created_time, m.id),
            reverse=True,
        )
        sub = spec.subfields if spec.subfields is not None else _parse(DEFAULT_FIELDS["message"])
        path = f"/{conversation_id}/messages"
        edge_ctx = ctx if top else ctx.nested({"fields": _unparse(sub)}, spec)
        page, paging = self._paginate(edge_ctx, found, "message", path, 25)
        return _listing([_select(self._message_full(m), sub) for m in page], paging)

    # -- rendering ----------------------------------------------------------------------

    def _person(self, user_id: str, with_email: bool = False) -> dict[str, str]:
        user = self.store.fb_users.get(user_id)
        person = {"name": user.name if user else "Facebook user", "id": user_id}
        if with_email:
            person = {"name": person["name"], "email": f"{user_id}@facebook.com", "id": user_id}
        return person

    def _post_json(
        self, post: FBPost, specs: dict[str, FieldSpec], ctx: _Context
    ) -> dict[str, Any]:
        full: dict[str, Any] = {
            "id": post.id,
            "message": post.message,
            "created_time": graph_time(post.created_time),
            "updated_time": graph_time(post.updated_time),
            "from": self._person(post.from_id),
            "is_hidden": post.hidden,
            "status_type": "mobile_status_update",
            "permalink_url": f"https://www.facebook.com/{FACEBOOK_PAGE_ID}/posts/{post.number}",
            "can_reply_privately": self._can_reply_privately(
                post.from_id, post.created_time, post.private_reply_message_id
            ),
        }
        out = _select(full, specs)
        if "comments" in specs:
            listing = self._comments_edge(post.id, specs["comments"], ctx, top=False)
            if listing["data"] or "summary" in listing:
                out["comments"] = listing
        return out

    def _comment_json(
        self, comment: FBComment, specs: dict[str, FieldSpec], ctx: _Context
    ) -> dict[str, Any]:
        post_number = self.store.posts[comment.post_id].number
        full: dict[str, Any] = {
            "id": comment.id,
            "message": comment.message,
            "created_time": graph_time(comment.created_time),
            "is_hidden": comment.hidden,
            "can_hide": comment.from_id != FACEBOOK_PAGE_ID,
            "can_reply_privately": self._can_reply_privately(
                comment.from_id, comment.created_time, comment.private_reply_message_id
            ),
            "comment_count": sum(
                1 for c in self.store.comments.values() if c.parent_id == comment.id
            ),
            "like_count": 0,
            "permalink_url": (
                f"https://www.facebook.com/{FACEBOOK_PAGE_ID}/posts/{post_number}"
                f"?comment_id={comment.id.split('_')[1]}"
            ),
        }
        if comment.show_from:
            full["from"] = self._person(comment.from_id)
        if comment.parent_id:
            full["parent"] = {
                "id": comment.parent_id,
                "message": self.store.comments[comment.parent_id].message,
                "created_time": graph_time(self.store.comments[comment.parent_id].created_time),
            }
        if comment.private_reply_message_id:
            conversation = self.store.conversation_with(comment.from_id, comment.created_time)
            full["private_reply_conversation"] = {"id": conversation.id}
        out = _select(full, {k: v for k, v in specs.items() if k != "comments"})
        if "comments" in specs:
            listing = self._comments_edge(comment.id, specs["comments"], ctx, top=False)
            if listing["data"] or "summary" in listing:
                out["comments"] = listing
        return out

    def _can_reply_privately(self, author: str, created: datetime, sent: str | None) -> bool:
        return (
            author != FACEBOOK_PAGE_ID
            and sent is None
            and self.clock() - created <= PRIVATE_REPLY_WINDOW
        )

    def _conversation_json(
        self, conversation: FBConversation, specs: dict[str, FieldSpec], ctx: _Context
    ) -> dict[str, Any]:
        messages = sorted(
            self.store.conversation_messages(conversation.id), key=lambda m: m.created_time
        )
        last_text = next((m.message for m in reversed(messages) if m.message), "")
        people = {
            "data": [
                self._person(conversation.user_id, with_email=True),
                self._person(FACEBOOK_PAGE_ID, with_email=True),
            ]
        }
        full: dict[str, Any] = {
            "id": conversation.id,
            "link": f"/{FACEBOOK_PAGE_ID}/inbox/{conversation.id[2:]}/",
            "updated_time": graph_time(conversation.updated_time),
            "message_count": len(messages),
            "unread_count": 0,
            "snippet": last_text[:100],
            "participants": people,
            "senders": people,
            "can_reply": True,
        }
        out = _select(full, {k: v for k, v in specs.items() if k != "messages"})
        if "messages" in specs:
            out["messages"] = self._messages_edge(
                conversation.id, specs["messages"], ctx, top=False
            )
        return out

    def _message_full(self, message: FBMessage) -> dict[str, Any]:
        full: dict[str, Any] = {
            "id": message.id,
            "created_time": graph_time(message.created_time),
            "from": self._person(message.from_id, with_email=True),
            "to": {"data": [self._person(message.to_id, with_email=True)]},
        }
        if message.message is not None:
            full["message"] = message.message
        if message.attachment is not None:
            full["attachments"] = {"data": [message.attachment]}
        return full

    def _paginate(
        self, ctx: _Context, items: list[Any], kind: str, path: str, default_limit: int
    ) -> tuple[list[Any], dict[str, Any] | None]:
        """Cursor paging with `next`/`previous` links on the sandbox host.

        Cursors name the last item of a page; conversations, listed by `updated_time`, name
        it with the time it had then (a keyset), so a conversation that moves to the top
        behind a walk is skipped by it while the rest of the list pages on unchanged.
        """
        limit = ctx.limit(default_limit)
        start = 0
        if ctx.params.get("after"):
            start = self._cursor_index(items, kind, str(ctx.params["after"])) + 1
        elif ctx.params.get("before"):
            start = max(self._cursor_index(items, kind, str(ctx.params["before"])) - limit, 0)
        page = items[start : start + limit]
        if not page:
            return page, None
        first, last = _item_cursor(kind, page[0]), _item_cursor(kind, page[-1])
        paging: dict[str, Any] = {"cursors": {"before": first, "after": last}}
        if start > 0:
            paging["previous"] = ctx.link(path, before=first, limit=limit)
        if start + limit < len(items):
            paging["next"] = ctx.link(path, after=last, limit=limit)
        return page, paging

    @staticmethod
    def _cursor_index(items: list[Any], kind: str, cursor: str) -> int:
        """The index of the cursor's item; for a keyset, of the last item at or after it."""
        named = decode_cursor(kind, cursor)
        item_id, _, moment = (named or "").partition("@")
        if moment:
            key = (parse_time(moment), item_id)
            if key[0] is not None:
                return sum(1 for item in items if (item.updated_time, item.id) >= key) - 1
        for index, item in enumerate(items):
            if item.id == item_id:
                return index
        raise GraphError("(#100) The parameter after or before is not a valid cursor", 100)

    # -- writes -------------------------------------------------------------------------

    def post_comment(self, ctx: _Context) -> Response:
        """The Page answers a comment (threaded under its top-level comment) or a post."""
        text = str(ctx.params.get("message", "")).strip()
        with self.store.lock:
            try:
                if not text:
                    raise GraphError("(#100) Missing message or attachment", 100)
                post_id, parent = self._comment_target(ctx.node)
            except GraphError as error:
                self._record("facebook.reply", ctx, error, target_id=ctx.node)
                raise
            number = self.store.posts[post_id].number
            comment = self.store.add_comment(
                FBComment(
                    id=self.store.ids.comment(number),
                    post_id=post_id,
                    message=text,
                    from_id=FACEBOOK_PAGE_ID,
                    created_time=self._now(),
                    parent_id=parent,
                    origin=ORIGIN_API,
                )
            )
            self._record(
                "facebook.reply", ctx, None, target_id=ctx.node, assigned_id=comment.id, text=text
            )
            return Response(200, {"id": comment.id})

    def _comment_target(self, node: str) -> tuple[str, str | None]:
        if node in self.store.posts:
            return node, None
        target = self.store.comments[node]
        return target.post_id, target.parent_id or target.id

    def update_hidden(self, ctx: _Context) -> Response:
        raw = ctx.params.get("is_hidden")
        with self.store.lock:
            target = self.store.comments.get(ctx.node) or self.store.posts[ctx.node]
            try:
                if raw is None:
                    raise GraphError("(#100) No valid update parameters were provided", 100)
                hidden = str(raw).lower() in ("true", "1")
                if str(raw).lower() not in ("true", "false", "1", "0"):
                    raise GraphError("(#100) Param is_hidden must be a boolean", 100)
                if target.from_id == FACEBOOK_PAGE_ID and isinstance(target, FBComment):
                    raise GraphError("(#100) The Page cannot hide its own comment", 100)
            except GraphError as error:
                self._record("facebook.hide", ctx, error, target_id=ctx.node)
                raise
            target.hidden = hidden
            self._record("facebook.hide", ctx, None, target_id=ctx.node, hidden=hidden)
            return Response(200, {"success": True})

    def send_message(self, ctx: _Context) -> Response:
        """Messenger Send API: a private reply (comment_id/post_id) or a message to a PSID."""
        with self.store.lock:
            recipient = _json_param(ctx.params, "recipient") or {}
            message = _json_param(ctx.params, "message") or {}
            private = "comment_id" in recipient or "post_id" in recipient
            kind = "facebook.private_reply" if private else "facebook.message"
            try:
                text = self._message_text(recipient, message)
                if kind == "facebook.private_reply":
                    user_id, mark = self._private_reply_target(recipient)
                else:
                    user_id, mark = self._window_target(recipient, ctx.params), None
            except GraphError as error:
                self._record(kind, ctx, error, recipient=recipient)
                raise
            now = self._now()
            conversation = self.store.conversation_with(user_id, now)
            sent = self.store.add_message(
                FBMessage(
                    id=self.store.ids.message(),
                    conversation_id=conversation.id,
                    from_id=FACEBOOK_PAGE_ID,
                    to_id=user_id,
                    created_time=now,
                    message=text,
                    origin=ORIGIN_API,
                )
            )
            if mark is not None:
                mark.private_reply_message_id = sent.id
            self._record(
                kind,
                ctx,
                None,
                recipient=recipient,
                assigned_id=sent.id,
                text=text,
                conversation_id=conversation.id,
                messaging_type=ctx.params.get("messaging_type"),
                tag=ctx.params.get("tag"),
            )
            return Response(200, {"recipient_id": user_id, "message_id": sent.id})

    @staticmethod
    def _message_text(recipient: dict[str, Any], message: dict[str, Any]) -> str:
        if not recipient:
            raise GraphError("(#100) param recipient must be non-empty.", 100)
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            raise GraphError("(#100) param message must be non-empty.", 100)
        return text

    def _private_reply_target(self, recipient: dict[str, Any]) -> tuple[str, FBComment | FBPost]:
        """One private reply per comment or visitor post, within 7 days of it."""
        if "comment_id" in recipient:
            target: FBComment | FBPost | None = self.store.comments.get(
                str(recipient["comment_id"])
            )
            name = "comment_id"
        else:
            target = self.store.posts.get(str(recipient["post_id"]))
            name = "post_id"
        if target is None or target.from_id == FACEBOOK_PAGE_ID:
            raise GraphError(f"(#100) Invalid {name} parameter", 100, subcode=2018292)
        if target.private_reply_message_id is not None:
            raise GraphError(
                "(#10) Only one private reply can be sent for this "
                f"{'comment' if name == 'comment_id' else 'post'}.",
                10,
                subcode=2018108,
            )
        if self.clock() - target.created_time > PRIVATE_REPLY_WINDOW:
            raise GraphError(OUTSIDE_WINDOW, 10, subcode=2018278)
        return target.from_id, target

    def _window_target(self, recipient: dict[str, Any], params: dict[str, Any]) -> str:
        """A message to a person: RESPONSE/UPDATE within 24 h, HUMAN_AGENT within 7 days."""
        user_id = str(recipient.get("id", ""))
        if user_id not in self.store.fb_users or user_id == FACEBOOK_PAGE_ID:
            raise GraphError("(#100) No matching user found", 100, subcode=2018001)
        messaging_type = str(params.get("messaging_type", "RESPONSE"))
        tag = params.get("tag")
        if messaging_type in ("RESPONSE", "UPDATE"):
            window: timedelta | None = RESPONSE_WINDOW
        elif messaging_type == "MESSAGE_TAG":
            if tag == "HUMAN_AGENT":
                window = HUMAN_AGENT_WINDOW
            elif tag in UNWINDOWED_TAGS:
                window = None
            else:
                raise GraphError(
                    f"(#100) Param tag must be one of {{HUMAN_AGENT, "
                    f"{', '.join(sorted(UNWINDOWED_TAGS))}}}",
                    100,
                )
        else:
            raise GraphError(
                "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}", 100
            )
        last = self.store.last_message_from(user_id)
        if window is not None and (last is None or self.clock() - last.created_time > window):
            raise GraphError(OUTSIDE_WINDOW, 10, subcode=2018278)
        return user_id

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def _record(self, kind: str, ctx: _Context, error: GraphError | None, **details: Any) -> None:
        body = {k: v for k, v in ctx.params.items() if k != "access_token"}
        self.store.record_action(
            {
                "platform": "facebook",
                "kind": kind,
                "method": ctx.method,
                "path": ctx.request_path,
                "body": body,
                "status": error.status if error else 200,
                "ok": error is None,
                "assigned_id": details.pop("assigned_id", None),
                "error": None
                if error is None
                else {"message": error.message, "code": error.code, "error_subcode": error.subcode},
                "received_at": iso(self.clock()),
                **details,
            }
        )


class _Context:
    """One request's parameters and how to build paging links back to the sandbox."""

    def __init__(
        self,
        method: str,
        request_path: str,
        version: str,
        node: str,
        edge: str,
        params: dict[str, Any],
        token: str,
        base_url: Callable[[], str] | None = None,
    ) -> None:
        self.method, self.request_path = method, request_path
        self.version, self.node, self.edge = version, node, edge
        self.params, self.token = params, token
        self.base_url = base_url

    def path(self) -> str:
        return f"/{self.node}/{self.edge}" if self.edge else f"/{self.node}"

    def fields(self, node_type: str) -> dict[str, FieldSpec]:
        raw = self.params.get("fields")
        try:
            return parse_fields(str(raw) if raw else DEFAULT_FIELDS[node_type])
        except FieldsError as error:
            raise GraphError(f"(#100) {error}", 100) from error

    def time(self, name: str) -> datetime | None:
        raw = self.params.get(name)
        if raw in (None, ""):
            return None
        moment = parse_time(str(raw))
        if moment is None:
            raise GraphError(f"(#100) The parameter {name} must be a valid date or timestamp", 100)
        return moment

    def limit(self, default: int) -> int:
        raw = self.params.get("limit", default)
        try:
            return max(0, min(int(raw), 100))
        except (TypeError, ValueError) as error:
            raise GraphError("(#100) Param limit must be a number", 100) from error

    def nested(self, link_params: dict[str, str], spec: FieldSpec) -> _Context:
        """The context of an edge inlined in a parent: its own limit, no parent cursor."""
        params = {**link_params, "limit": spec.modifiers.get("limit", "25")}
        return _Context(
            self.method,
            self.request_path,
            self.version,
            self.node,
            self.edge,
            params,
            self.token,
            self.base_url,
        )

    def link(self, path: str, **cursor: Any) -> str:
        params = {
            k: str(v)
            for k, v in self.params.items()
            if k not in ("after", "before", "access_token") and not isinstance(v, dict)
        }
        params.update({k: str(v) for k, v in cursor.items()})
        params = {"access_token": self.token, **params}
        base = self.base_url() if self.base_url else ""
        return build_url(base, f"/{self.version}{path}", params)


def _parse(text: str) -> dict[str, FieldSpec]:
    return parse_fields(text)


def _unparse(specs: dict[str, FieldSpec]) -> str:
    parts = []
    for spec in specs.values():
        text = spec.name + "".join(f".{k}({v})" for k, v in spec.modifiers.items())
        if spec.subfields is not None:
            text += "{" + _unparse(spec.subfields) + "}"
        parts.append(text)
    return ",".join(parts)


def _select(full: dict[str, Any], specs: dict[str, FieldSpec]) -> dict[str, Any]:
    """Only the requested fields that the object has; nested objects honour `{sub,fields}`."""
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        if name not in full:
            continue
        value = full[name]
        if spec.subfields and isinstance(value, dict):
            value = (
                _select(value, spec.subfields)
                if "data" not in value
                else {"data": [_select(v, spec.subfields) for v in value["data"]]}
            )
        out[name] = value
    return out


def _item_cursor(kind: str, item: Any) -> str:
    if kind == "conversation":
        return encode_cursor(kind, f"{item.id}@{item.updated_time.isoformat()}")
    return encode_cursor(kind, item.id)


def requested_objects(params: dict[str, Any]) -> int:
    """What a request asks for: its page size times the largest nested edge limit."""
    try:
        limit = int(params.get("limit", 25))
    except (TypeError, ValueError):
        limit = 25
    nested = [int(n) for n in _NESTED_LIMIT.findall(str(params.get("fields", "")))]
    return limit * max(nested, default=1)


def _loop_paging(response: Response, ctx: _Context) -> Response:
    """The page's next link and `after` cursor point back at the request's own cursor."""
    body = response.body
    if response.status != 200 or not isinstance(body, dict):
        return response
    paging = body.get("paging")
    after = str(ctx.params["after"])
    if isinstance(paging, dict) and paging.get("next"):
        paging.setdefault("cursors", {})["after"] = after
        paging["next"] = ctx.link(ctx.path(), after=after)
    return response


def _listing(data: list[dict[str, Any]], paging: dict[str, Any] | None) -> dict[str, Any]:
    listing: dict[str, Any] = {"data": data}
    if paging is not None:
        listing["paging"] = paging
    return listing


def _json_param(params: dict[str, Any], name: str) -> dict[str, Any] | None:
    """Send API objects arrive as JSON objects or as JSON text in a form field."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise GraphError(f"(#100) param {name} must be a JSON object", 100) from error
    return value if isinstance(value, dict) else None
