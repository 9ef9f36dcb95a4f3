"""Threads a page's new items into conversations and folds them into each one's state.

An item joins its parent's conversation, else its thread's; a thread seen for the first
time opens a conversation (`socialdesk.store.opened_conversations`). After the insert, the
new messages move each conversation's timestamps and status (reopen on a new inbound,
`open` on a first answer), computed from the stored values (`socialdesk.store.
conversation_fold`): one lookup, one multi-row INSERT and one UPDATE statement per page;
on PostgreSQL the conversations the page opened are inserted folded and need no UPDATE.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from connectors.base import Direction, InboundItem
from socialdesk.store.bulk import chunks
from socialdesk.store.conversation_fold import (
    TIMES,
    TIMESTAMPS,
    DueClock,
    NewMessage,
    folded,
    opened_state,
    reopened_at,
)
from socialdesk.store.driver import Driver, Query
from socialdesk.store.models import Status
from socialdesk.store.opened_conversations import (
    Opening,
    open_conversations,
    open_folded,
    unfolded,
)
from socialdesk.store.tables import CONVERSATION, MESSAGE

_Pending = tuple[str, str]
"""("new", thread_key): a conversation this page opens, created in bulk afterwards."""

__all__ = ["DueClock", "NewMessage", "refresh_conversations", "thread_items", "thread_lookups"]

_STATE_COLUMNS = ", ".join(("id", "status", *TIMES))

THREAD_CONVERSATIONS = (f"SELECT thread_key, {_STATE_COLUMNS} FROM conversation "
                        "WHERE account_id = {mark} AND thread_key {any_of}")
"""The threads' lookup: an index lookup on `uq_conversation_thread` at any size."""


def thread_items(
    driver: Driver,
    account_id: int,
    items: list[InboundItem],
    contact_ids: dict[str, int],
    by_parent: dict[str, int],
    threads: Iterable[tuple[Any, ...]],
    states: dict[int, dict[str, Any]],
    now: datetime,
    *,
    automated: bool = False,
    due_clock: DueClock | None = None,
) -> dict[str, int]:
    """external_id -> conversation id: join the parent's conversation, else the thread's.

    `threads` are the rows of `thread_lookups`. Fills `states` with the stored state of
    the conversations it read or opened, so the fold after the insert need not read them
    again. On PostgreSQL the conversations the page opens are inserted already folded
    (`socialdesk.store.opened_conversations.open_folded`); `automated` and `due_clock`
    are the page's, as `refresh_conversations` gets them.
    """
    by_thread: dict[str, int | _Pending] = {}
    for row in threads:
        state = _state(driver, row[1:])
        by_thread[row[0]] = state["id"]
        states[state["id"]] = state
    assigned: dict[str, int | _Pending] = {}
    openers: dict[str, InboundItem] = {}
    for item in items:
        parent = item.parent_external_id or ""
        conversation = (
            assigned.get(parent) or by_parent.get(parent) or by_thread.get(item.thread_key)
        )
        if conversation is None:
            conversation = ("new", item.thread_key)
            by_thread[item.thread_key] = conversation
            openers[item.thread_key] = item
        assigned[item.external_id] = conversation
    if driver.postgres:
        members: dict[str, list[InboundItem]] = {}
        for item in items:  # an item joins a new conversation by its thread or its parent
            conversation = assigned[item.external_id]
            if not isinstance(conversation, int):
                members.setdefault(conversation[1], []).append(item)
        opened = open_folded(driver, account_id, openers, members, contact_ids, states,
                              Opening(now, automated, due_clock))
    else:
        opened = open_conversations(driver, account_id, list(openers.values()), contact_ids,
                                     now)
        for thread_key, conversation_id in opened.items():
            states[conversation_id] = opened_state(conversation_id, openers[thread_key])
    return {key: value if isinstance(value, int) else opened[value[1]]
            for key, value in assigned.items()}


def thread_lookups(driver: Driver, account_id: int, items: list[InboundItem]) -> list[Query]:
    """The queries that find the conversations of the items' threads (for `thread_items`)."""
    return driver.lookups(THREAD_CONVERSATIONS, account_id,
                          sorted({item.thread_key for item in items}))


def refresh_conversations(
    session: Session, driver: Driver, new_messages: list[NewMessage],
    states: dict[int, dict[str, Any]], now: datetime, due_clock: DueClock | None,
) -> dict[int, datetime]:
    """Fold the new messages into each conversation's timestamps, status and due time;
    return the conversations this reopened, with the time of the inbound message that
    reopened each.

    Computed here from the stored values, in one UPDATE per page; a conversation whose
    first inbound moves earlier than an outbound already stored gets its timestamps
    recomputed in SQL afterwards, since its first response may be a message this page did
    not bring, and its due time after that.
    """
    by_conversation: dict[int, list[NewMessage]] = {}
    for message in new_messages:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    reopened: dict[int, datetime] = {}
    states = unfolded(driver, states, by_conversation, reopened)
    unread = sorted(set(by_conversation) - set(states))
    current_states = [states[c] for c in by_conversation if c in states]
    updates: list[tuple[Any, ...]] = []
    recompute: list[int] = []
    stamp = driver.time(now)
    for current in current_states + _current_states(driver, unread):
        conversation_id = current["id"]
        messages = by_conversation[conversation_id]
        values, exact = folded(current, messages, now)
        reopening = reopened_at(current, values, messages)
        if reopening is not None:
            reopened[conversation_id] = reopening
        clock = None
        if not exact:
            recompute.append(conversation_id)
        elif due_clock is not None:
            clock = due_clock(conversation_id, values["opened_at"], current["sla_started_at"],
                              reopened.get(conversation_id))
        updates.append((*(driver.time(values[name]) for name in TIMESTAMPS),
                        str(values["status"]), driver.time(values["resolved_at"]), stamp,
                        *(driver.time(moment) for moment in clock or (None, None)),
                        conversation_id))
    driver.update("conversation", _FOLD, updates)
    if recompute:
        _recompute(session, driver, recompute, now, due_clock, reopened)
    return reopened


_FOLD = (
    *((name, "timestamptz", "{value}") for name in TIMESTAMPS),
    ("status", "text", "{value}"), ("resolved_at", "timestamptz", "{value}"),
    ("updated_at", "timestamptz", "{value}"),
    *((name, "timestamptz", f"COALESCE({{value}}, {name})")
      for name in ("sla_started_at", "first_response_due_at")),
)
"""The fold's UPDATE (`Driver.update`); a NULL clock leaves the stored one."""


def _recompute(
    session: Session, driver: Driver, conversation_ids: list[int], now: datetime,
    due_clock: DueClock | None, reopened: dict[int, datetime],
) -> None:
    """Timestamps from the stored messages, for the rare conversation whose first inbound
    moved earlier than an answer already stored; then their due times."""
    driver.send_later()  # the fold's UPDATE, which these statements read and overwrite
    connection = session.connection()
    clocks: list[tuple[Any, ...]] = []
    for chunk in chunks(conversation_ids):
        connection.execute(_timestamps_update(chunk, now))
        connection.execute(
            update(CONVERSATION)
            .where(CONVERSATION.c.id.in_(chunk), CONVERSATION.c.status == Status.NEW,
                   CONVERSATION.c.first_response_at.is_not(None))
            .values(status=Status.OPEN)
        )
        for state in _current_states(driver, list(chunk)) if due_clock is not None else []:
            assert due_clock is not None
            clock = due_clock(state["id"], state["opened_at"], state["sla_started_at"],
                              reopened.get(state["id"]))
            if clock is not None:
                clocks.append((*(driver.time(moment) for moment in clock), state["id"]))
    driver.run_many(f"UPDATE conversation SET sla_started_at = {driver.mark}, "
                    f"first_response_due_at = {driver.mark} WHERE id = {driver.mark}", clocks)


def _current_states(driver: Driver, conversation_ids: list[int]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for chunk in chunks(conversation_ids):
        rows = driver.rows(
            f"SELECT {_STATE_COLUMNS} FROM conversation WHERE id {driver.any_of(len(chunk))}",
            driver.any_values(chunk),
        )
        found.extend(_state(driver, row) for row in rows)
    return found


def _state(driver: Driver, row: Sequence[Any]) -> dict[str, Any]:
    """A conversation's stored state from its `_STATE_COLUMNS`, times as aware UTC."""
    state: dict[str, Any] = {"id": int(row[0]), "status": row[1]}
    for name, value in zip(TIMES, row[2:], strict=True):
        state[name] = driver.read_time(value)
    return state


def _timestamps_update(conversation_ids: Sequence[int], now: datetime) -> Any:
    """Every timestamp from the stored messages in one statement (SET sees the old row, so
    first response compares against the recomputed first inbound, not the stored one)."""

    def edge(aggregate: Any, direction: Direction | None) -> Any:
        where = [MESSAGE.c.conversation_id == CONVERSATION.c.id]
        if direction is not None:
            where.append(MESSAGE.c.direction == direction.value)
        if direction is Direction.OUTBOUND:
            where.append(MESSAGE.c.automated.is_(False))
        return select(aggregate(MESSAGE.c.created_at)).where(*where).scalar_subquery()

    inbound = MESSAGE.alias("inbound")
    first_inbound = (
        select(func.min(inbound.c.created_at))
        .where(inbound.c.conversation_id == CONVERSATION.c.id,
               inbound.c.direction == Direction.INBOUND.value)
        .scalar_subquery()
    )
    first_response = (
        select(func.min(MESSAGE.c.created_at))
        .where(MESSAGE.c.conversation_id == CONVERSATION.c.id,
               MESSAGE.c.direction == Direction.OUTBOUND.value,
               MESSAGE.c.automated.is_(False),
               MESSAGE.c.created_at >= first_inbound)
        .scalar_subquery()
    )
    return (
        update(CONVERSATION)
        .where(CONVERSATION.c.id.in_(conversation_ids))
        .values(
            opened_at=edge(func.min, Direction.INBOUND),
            first_response_at=first_response,
            last_inbound_at=edge(func.max, Direction.INBOUND),
            last_outbound_at=edge(func.max, Direction.OUTBOUND),
            last_message_at=edge(func.max, None),
            updated_at=now,
        )
    )
