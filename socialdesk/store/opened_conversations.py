"""Inserts the conversations a page opens: bare on SQLite, already folded on PostgreSQL.

A thread seen for the first time opens a conversation. SQLite inserts it bare and the
page's fold (`socialdesk.store.threads.refresh_conversations`) updates it with the rest;
PostgreSQL inserts it with its folded state at once (`open_folded`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from connectors.base import Direction, InboundItem
from socialdesk.store.conversation_fold import (
    TIMESTAMPS,
    DueClock,
    NewMessage,
    folded,
    opened_state,
    reopened_at,
)
from socialdesk.store.driver import Driver
from socialdesk.store.models import Status


def open_conversations(
    driver: Driver, account_id: int, openers: list[InboundItem], contact_ids: dict[str, int],
    now: datetime,
) -> dict[str, int]:
    """thread_key -> new conversation id. A thread our own echo started is not new work."""
    if not openers:
        return {}
    stamp = driver.time(now)
    rows = []
    for item in openers:
        inbound = item.direction is Direction.INBOUND
        rows.append((
            account_id, item.channel.value, item.channel.visibility.value, item.thread_key,
            contact_ids.get(item.author_id or "") if inbound else None,
            (Status.NEW if inbound else Status.RESOLVED).value, stamp, stamp,
        ))
    return {thread_key: int(new_id) for thread_key, new_id in
            driver.insert("conversation", OPENED_COLUMNS, rows, "RETURNING thread_key, id")}


OPENED_COLUMNS = (
    ("account_id", "integer"), ("channel", "text"), ("visibility", "text"),
    ("thread_key", "text"), ("contact_id", "integer"), ("status", "text"),
    ("created_at", "timestamptz"), ("updated_at", "timestamptz"),
)


class Opening(NamedTuple):
    """What `open_folded` stamps every conversation of one page with."""

    now: datetime
    automated: bool
    due_clock: DueClock | None


NEW_CONVERSATION_IDS = ("SELECT nextval(pg_get_serial_sequence('conversation', 'id')) "
                        "FROM generate_series(1, %s)")
FOLDED_COLUMNS = (
    ("id", "integer"), *OPENED_COLUMNS,
    *((name, "timestamptz") for name in (*TIMESTAMPS, "resolved_at", "sla_started_at",
                                          "first_response_due_at")),
)


def open_folded(
    driver: Driver, account_id: int, openers: dict[str, InboundItem],
    members: dict[str, list[InboundItem]], contact_ids: dict[str, int],
    states: dict[int, dict[str, Any]], opening: Opening,
) -> dict[str, int]:
    """PostgreSQL: insert the conversations the page opens with their state as the page's
    messages will leave it (timestamps, status, due time), where they were inserted bare
    and then updated by the fold. That UPDATE rewrote each new row in full (the table has
    15 indexes, so no HOT update), re-ran its foreign-key checks (a row inserted in the
    same transaction is re-checked) and sent a second notification: 27 µs of server CPU
    per conversation, 5.4 µs per item of benchmarks/ingest.py, where a thread of five
    opens a conversation per five items. The due clock needs the conversation's id before
    the insert, so the ids are drawn from the sequence first (one round trip a page that
    opens conversations). `states` gets the folded state, marked with how many messages
    it folded: `refresh_conversations` leaves such a conversation alone when the insert
    added them all (the rare message another process stored meanwhile is re-folded)."""
    if not openers:
        return {}
    ids = [int(new_id) for (new_id,) in driver.rows(NEW_CONVERSATION_IDS, (len(openers),))]
    stamp = driver.time(opening.now)
    rows = []
    for (thread_key, opener), conversation_id in zip(openers.items(), ids, strict=True):
        messages = [NewMessage(0, conversation_id, item.direction, item.created_at,
                               opening.automated) for item in members[thread_key]]
        bare = opened_state(conversation_id, opener)
        values, _exact = folded(bare, messages, opening.now)
        reopening = reopened_at(bare, values, messages)
        clock = (opening.due_clock(conversation_id, values["opened_at"], None, reopening)
                 if opening.due_clock is not None else None) or (None, None)
        states[conversation_id] = {
            **bare, **{name: values[name] for name in (*TIMESTAMPS, "resolved_at")},
            "status": str(values["status"]), "sla_started_at": clock[0],
            "folded": len(messages), "reopened_at": reopening, "bare": bare}
        inbound = opener.direction is Direction.INBOUND
        rows.append((
            conversation_id, account_id, opener.channel.value, opener.channel.visibility.value,
            thread_key, contact_ids.get(opener.author_id or "") if inbound else None,
            str(values["status"]), stamp, stamp,
            *(driver.time(values[name]) for name in (*TIMESTAMPS, "resolved_at")),
            *(driver.time(moment) for moment in clock)))
    driver.insert("conversation", FOLDED_COLUMNS, rows, "RETURNING id")
    return dict(zip(openers, ids, strict=True))


def unfolded(
    driver: Driver, states: dict[int, dict[str, Any]],
    by_conversation: dict[int, list[NewMessage]], reopened: dict[int, datetime],
) -> dict[int, dict[str, Any]]:
    """The states still to fold, `by_conversation` left with their messages only. A
    conversation `open_folded` inserted folded needs no more when the insert added all
    the messages it folded; else (another process stored one of them meanwhile) it is
    folded again from its bare state, with what was really added, after its due time is
    cleared (the fold's UPDATE keeps a stored one)."""
    left: dict[int, dict[str, Any]] = {}
    refold: list[int] = []
    for conversation_id, state in states.items():
        if "folded" not in state:
            left[conversation_id] = state
        elif state["folded"] == len(by_conversation.get(conversation_id, ())):
            del by_conversation[conversation_id]
            if state["reopened_at"] is not None:
                reopened[conversation_id] = state["reopened_at"]
        else:
            left[conversation_id] = state["bare"]
            by_conversation.setdefault(conversation_id, [])
            refold.append(conversation_id)
    if refold:
        driver.later("UPDATE conversation SET sla_started_at = NULL, "
                     "first_response_due_at = NULL WHERE id = ANY(%s)", (refold,))
    return left
