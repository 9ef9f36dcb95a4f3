"""HTTP helpers and recorded-data readers shared by the sandbox tests."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import requests
import yaml

from socialdesk.sandbox import FACEBOOK_PAGE_ID, X_USER_ID, SandboxServer

RECORDED = Path(os.environ.get("SOCIALDESK_RECORDED_DIR", "/work/shared/testdata/recorded"))
X_AUTH = {"Authorization": 'OAuth oauth_consumer_key="sandbox", oauth_signature="unchecked"'}
GRAPH = "/v25.0"


def x_get(server: SandboxServer, path: str, **params: Any) -> requests.Response:
    return requests.get(server.base_url + path, params=params, headers=X_AUTH, timeout=5)


def x_send(
    server: SandboxServer, method: str, path: str, body: dict[str, Any]
) -> requests.Response:
    return requests.request(method, server.base_url + path, json=body, headers=X_AUTH, timeout=5)


def mentions(server: SandboxServer, **params: Any) -> requests.Response:
    return x_get(server, f"/2/users/{X_USER_ID}/mentions", **params)


def graph_get(server: SandboxServer, path: str, **params: Any) -> requests.Response:
    return requests.get(
        server.base_url + GRAPH + path, params={"access_token": "sandbox", **params}, timeout=5
    )


def graph_post(server: SandboxServer, path: str, **data: Any) -> requests.Response:
    return requests.post(
        server.base_url + GRAPH + path, data={"access_token": "sandbox", **data}, timeout=5
    )


def page_path(edge: str) -> str:
    return f"/{FACEBOOK_PAGE_ID}/{edge}"


def items(server: SandboxServer, channel: str, direction: str = "inbound") -> list[dict[str, Any]]:
    return [
        i
        for i in server.state()["items"]
        if i["channel"] == channel and i["direction"] == direction
    ]


def cassette_bodies(path: Path) -> list[tuple[str, str, int, dict[str, Any] | None]]:
    """(method, path, status, JSON body) of each interaction of a vcrpy cassette."""
    out = []
    for interaction in yaml.safe_load(path.read_bytes())["interactions"]:
        request, response = interaction["request"], interaction["response"]
        body = response["body"]["string"] or b""
        body = body.encode() if isinstance(body, str) else body
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        uri_path = "/" + request["uri"].split("/", 3)[3].split("?")[0]
        out.append(
            (
                request["method"],
                uri_path,
                response["status"]["code"],
                json.loads(body) if body else None,
            )
        )
    return out


def shape(value: Any) -> Any:
    """A value's structure: dict keys with their shapes, list of first item's, scalar types."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__
