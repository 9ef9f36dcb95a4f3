"""How the Graph emulator fails: Graph's `error` objects and the faults that shape answers.

A refused request raises `GraphError`; the emulator renders it as Graph does, usually an
HTTP 400 whose `error` object carries the code a connector maps. Shaping faults break one
item of a list page, hand back a paging cursor already followed, or refuse a heavy request.
"""

from __future__ import annotations

import re
from typing import Any

from socialdesk.sandbox.faults import PAGE_FAULTS, TYPE_FAULTS, Fault, corrupt_page, mistype_page
from socialdesk.sandbox.wire import Response

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


def requested_objects(params: dict[str, Any]) -> int:
    """What a request asks for: its page size times the largest nested edge limit."""
    try:
        limit = int(params.get("limit", 25))
    except (TypeError, ValueError):
        limit = 25
    nested = [int(n) for n in _NESTED_LIMIT.findall(str(params.get("fields", "")))]
    return limit * max(nested, default=1)


def fault_applies(fault: Fault, params: dict[str, Any]) -> bool:
    """A paging loop needs a cursor to hand back; too much data, a heavy request."""
    if fault.kind == "paging_loop":
        return bool(params.get("after"))
    if fault.kind == "too_much_data":
        return requested_objects(params) > DATA_BUDGET
    return True


def malform(response: Response, endpoint: str, taken: tuple[Fault, int]) -> Response:
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
