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
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from socialdesk.sandbox.backend import Backend, Emulator
from socialdesk.sandbox.faults import OVERSIZED_KINDS, Fault, oversized_response
from socialdesk.sandbox.graph_errors import (
    SHAPING_FAULTS,
    TOO_MUCH_DATA,
    GraphError,
    fault_applies,
    malform,
)
from socialdesk.sandbox.graph_fields import FieldSpec
from socialdesk.sandbox.graph_render import (
    GraphRendering,
    page_listing,
    select_fields,
)
from socialdesk.sandbox.graph_request import (
    GraphContext,
    access_token,
    request_params,
    split_path,
)
from socialdesk.sandbox.graph_writes import GraphWrites
from socialdesk.sandbox.limits import graph_usage_headers
from socialdesk.sandbox.state import FACEBOOK_PAGE_ID, FACEBOOK_PAGE_NAME, FBPost
from socialdesk.sandbox.wire import Request, Response

SANDBOX_APP_ID = "873465199201443"
SANDBOX_APP_NAME = "Emporio Lumen Desk"
REVIEWABLE_PERMISSIONS = (
    "pages_manage_engagement", "pages_manage_metadata", "pages_messaging",
    "pages_read_engagement", "pages_read_user_content", "pages_show_list",
)


class GraphApi(GraphWrites, GraphRendering, Emulator):
    """Routes Graph requests by node id: the Page, a post, a comment, a conversation."""

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self._trace = itertools.count(1)
        self.app_review: dict[str, str] = dict.fromkeys(REVIEWABLE_PERMISSIONS, "live")
        """The app's permissions and their App Review status; "live" is Advanced Access.
        Tests drop some to emulate an app with only Standard Access."""

    # -- dispatch -----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        version, node, edge = split_path(request.path)
        params = request_params(request)
        endpoint = kind = "facebook.object"
        try:
            if version is None:
                raise GraphError("Unknown path components: " + request.path, 2500)
            token = access_token(request, params)
            with self.store.lock:
                endpoint, handler, kind = self._route(request.method, node, edge)
            taken = self.faults.take(endpoint)
            if taken is not None and taken[0].kind not in SHAPING_FAULTS:
                return self._fault_response(taken[0], taken[1], version)
            if taken is not None and not fault_applies(taken[0], params):
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
            context = GraphContext(
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
                response = malform(response, endpoint, taken)
            response.headers.update(graph_usage_headers(percent, FACEBOOK_PAGE_ID, kind))
        except GraphError as error:
            response = self._error(error)
        response.headers["facebook-api-version"] = version or "v25.0"
        return response

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

    # -- reads: the Page ----------------------------------------------------------------

    def get_page(self, ctx: GraphContext) -> Response:
        full = {
            "id": FACEBOOK_PAGE_ID,
            "name": FACEBOOK_PAGE_NAME,
            "category": "Shopping & retail",
            "link": f"https://www.facebook.com/{FACEBOOK_PAGE_ID}",
            "fan_count": 4812,
        }
        return Response(200, select_fields(full, ctx.fields("page")))

    def get_app(self, ctx: GraphContext) -> Response:
        """`/app`: the app the access token belongs to."""
        full = {"id": SANDBOX_APP_ID, "name": SANDBOX_APP_NAME,
                "link": f"https://www.facebook.com/games/?app_id={SANDBOX_APP_ID}"}
        return Response(200, select_fields(full, ctx.fields("app")))

    def get_app_permissions(self, ctx: GraphContext) -> Response:
        """`/{app-id}/permissions`: the permissions approved through App Review; only an
        app token (`{app-id}|{app-secret}`) may read them."""
        if not ctx.token.startswith(f"{SANDBOX_APP_ID}|"):
            raise GraphError("(#200) An app access token is required to retrieve "
                             "permissions approved for that app", 200)
        data = [{"permission": name, "status": status}
                for name, status in sorted(self.app_review.items())]
        return Response(200, {"data": data})

    def get_feed(self, ctx: GraphContext) -> Response:
        return self._post_list(ctx, lambda _post: True)

    def get_posts(self, ctx: GraphContext) -> Response:
        return self._post_list(ctx, lambda post: post.from_id == FACEBOOK_PAGE_ID)

    def _post_list(self, ctx: GraphContext, keep: Callable[[FBPost], bool]) -> Response:
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
            posts_json = [self._post_json(p, specs, ctx) for p in page]
            return Response(200, page_listing(posts_json, paging))

    def get_conversations(self, ctx: GraphContext) -> Response:
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
            return Response(200, page_listing(data, paging))

    # -- reads: posts, comments, conversations ------------------------------------------

    def get_post(self, ctx: GraphContext) -> Response:
        with self.store.lock:
            post = self.store.posts[ctx.node]
            return Response(200, self._post_json(post, ctx.fields("post"), ctx))

    def get_comment(self, ctx: GraphContext) -> Response:
        with self.store.lock:
            comment = self.store.comments[ctx.node]
            return Response(200, self._comment_json(comment, ctx.fields("comment"), ctx))

    def get_conversation(self, ctx: GraphContext) -> Response:
        with self.store.lock:
            conversation = self.store.conversations[ctx.node]
            return Response(
                200, self._conversation_json(conversation, ctx.fields("conversation"), ctx)
            )

    def get_message(self, ctx: GraphContext) -> Response:
        with self.store.lock:
            message = self.store.messages[ctx.node]
            return Response(200, select_fields(self._message_full(message), ctx.fields("message")))

    def get_comments(self, ctx: GraphContext) -> Response:
        modifiers: dict[str, str] = {
            k: str(ctx.params[k]) for k in ("filter", "order", "limit") if k in ctx.params
        }
        with self.store.lock:
            spec = FieldSpec("comments", modifiers, ctx.fields("comment"))
            listing = self._comments_edge(ctx.node, spec, ctx, top=True)
            return Response(200, listing)

    def get_messages(self, ctx: GraphContext) -> Response:
        with self.store.lock:
            spec = FieldSpec(
                "messages", {"limit": str(ctx.params.get("limit", 25))}, ctx.fields("message")
            )
            return Response(200, self._messages_edge(ctx.node, spec, ctx, top=True))



def _loop_paging(response: Response, ctx: GraphContext) -> Response:
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

