"""One Graph request as the emulator reads it: path, merged parameters, token, fields.

Graph accepts parameters in the query, a form body or a JSON body; `GraphContext` also
builds the paging links that lead back to the sandbox.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from socialdesk.sandbox.graph_errors import GraphError
from socialdesk.sandbox.graph_fields import FieldsError, FieldSpec, parse_fields
from socialdesk.sandbox.wire import Request, build_url, parse_time

_PATH_RE = re.compile(r"/(v\d+\.\d+)/([^/]+)(?:/([^/]+))?/?")

DEFAULT_FIELDS = {
    "post": "id,message,created_time",
    "comment": "id,message,created_time,from",
    "conversation": "id,link,updated_time",
    "message": "id,created_time",
    "page": "id,name",
    "app": "id,name,link",
}


def split_path(path: str) -> tuple[str | None, str, str | None]:
    """(version, node, edge) of `/vNN.0/{node}/{edge}`; no version when the path is not Graph's."""
    match = _PATH_RE.fullmatch(path)
    if match is None:
        return None, "", None
    return match.group(1), match.group(2), match.group(3)


def request_params(request: Request) -> dict[str, Any]:
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


def access_token(request: Request, params: dict[str, Any]) -> str:
    """The token from `access_token` or an `Authorization: Bearer` header; code 104 if none."""
    token = str(params.pop("access_token", "") or "")
    if not token:
        scheme, _, value = (request.header("authorization") or "").partition(" ")
        if scheme.lower() in ("bearer", "oauth"):
            token = value.strip()
    if not token:
        raise GraphError("An access token is required to request this resource.", 104)
    return token


class GraphContext:
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

    def nested(self, link_params: dict[str, str], spec: FieldSpec) -> GraphContext:
        """The context of an edge inlined in a parent: its own limit, no parent cursor."""
        params = {**link_params, "limit": spec.modifiers.get("limit", "25")}
        return GraphContext(
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


def json_param(params: dict[str, Any], name: str) -> dict[str, Any] | None:
    """Send API objects arrive as JSON objects or as JSON text in a form field."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise GraphError(f"(#100) param {name} must be a JSON object", 100) from error
    return value if isinstance(value, dict) else None
