"""Threads a page's new items into conversations and folds them into each one's state.

An item joins its parent's conversation, else its thread's; a thread seen for the first
time opens a conversation. After the insert, the new messages move each conversation's
timestamps and status (reopen on a new inbound, `open` on a first answer), computed from
the stored values in two statements per page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlmodel import Session

from connectors.base import Direction, InboundItem
from socialdesk.store.bulk import chunks
from socialdesk.store.models import Account, Status
from socialdesk.store.tables import CONVERSATION, MESSAGE

_Pending = tuple[str, str]
"""("new", thread_key): a conversation this page opens, created in bulk afterwards."""


def thread_items(
    session: Session,
    account: Account,
    items: list[InboundItem],
    contact_ids: dict[str, int],
    by_parent: dict[str, int],
    states: dict[int, dict[str, Any]],
    now: datetime,
) -> dict[str, int]:
    """external_id -> conversation id: join the parent's conversation, else the thread's.

    Fills `states` with the stored state of the conversations it read or opened, so the
    fold after the insert need not read them again.
    """
    by_thread: dict[str, int | _Pending] = {}
    for state in _conversations_of_threads(session, account, [i.thread_key for i in items]):
        by_thread[state.pop("thread_key")] = state["id"]
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
    opened = _open_conversations(session, account, list(openers.values()), contact_ids, now)
    for thread_key, conversation_id in opened.items():
        status = (Status.NEW if openers[thread_key].direction is Direction.INBOUND
                  else Status.RESOLVED)
        states[conversation_id] = {"id": conversation_id, "status": status.value,
                                   "resolved_at": None, **dict.fromkeys(_TIMESTAMPS)}
    return {key: value if isinstance(value, int) else opened[value[1]]
            for key, value in assigned.items()}


def _conversations_of_threads(
    session: Session, account: Account, thread_keys: list[str]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for chunk in chunks(sorted(set(thread_keys))):
        rows = session.connection().execute(
            _THREADS_OF_ACCOUNT, {"account_id": account.id, "keys": list(chunk)}
        )
        found.extend(dict(row._mapping) for row in rows)
    return found


def _open_conversations(
    session: Session, account: Account, openers: list[InboundItem], contact_ids: dict[str, int],
    now: datetime,
) -> dict[str, int]:
    """thread_key -> new conversation id. A thread our own echo started is not new work."""
    if not openers:
        return {}
    rows = []
    for item in openers:
        inbound = item.direction is Direction.INBOUND
        rows.append({
            "account_id": account.id,
            "channel": item.channel.value,
            "visibility": item.visibility.value,
            "thread_key": item.thread_key,
            "contact_id": contact_ids.get(item.author_id or "") if inbound else None,
            "status": (Status.NEW if inbound else Status.RESOLVED).value,
            "created_at": now,
            "updated_at": now,
        })
    statement = insert(CONVERSATION).returning(CONVERSATION.c.thread_key, CONVERSATION.c.id)
    return {thread_key: int(new_id) for thread_key, new_id in
            session.connection().execute(statement, rows)}


@dataclass(frozen=True)
class NewMessage:
    id: int
    conversation_id: int
    direction: Direction
    created_at: datetime
    automated: bool

    @property
    def is_answer(self) -> bool:
        return self.direction is Direction.OUTBOUND and not self.automated


_TIMESTAMPS = ("opened_at", "first_response_at", "last_inbound_at", "last_outbound_at",
               "last_message_at")


def refresh_conversations(
    session: Session, new_messages: list[NewMessage], states: dict[int, dict[str, Any]],
    now: datetime,
) -> dict[int, datetime]:
    """Fold the new messages into each conversation's timestamps and status; return the
    conversations this reopened, with the time of the inbound message that reopened each.

    Computed here from the stored values, in two statements per page; a conversation
    whose first inbound moves earlier than an outbound already stored gets its timestamps
    recomputed in SQL afterwards, since its first response may be a message this page did
    not bring.
    """
    by_conversation: dict[int, list[NewMessage]] = {}
    for message in new_messages:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    unread = sorted(set(by_conversation) - set(states))
    current_states = [states[c] for c in by_conversation if c in states]
    updates, recompute = [], []
    reopened: dict[int, datetime] = {}
    for current in current_states + _current_timestamps(session, unread):
        values, exact = _folded(current, by_conversation[current["id"]], now)
        updates.append(values)
        if current["status"] == Status.RESOLVED != values["status"]:
            reopened[current["id"]] = min(m.created_at for m in by_conversation[current["id"]]
                                          if m.direction is Direction.INBOUND)
        if not exact:
            recompute.append(current["id"])
    connection = session.connection()
    if updates:
        connection.execute(_CONVERSATION_FOLD, updates)
    for chunk in chunks(recompute):
        connection.execute(_timestamps_update(chunk, now))
        connection.execute(
            update(CONVERSATION)
            .where(CONVERSATION.c.id.in_(chunk), CONVERSATION.c.status == Status.NEW,
                   CONVERSATION.c.first_response_at.is_not(None))
            .values(status=Status.OPEN)
        )
    return reopened


def _current_timestamps(session: Session, conversation_ids: list[int]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for chunk in chunks(conversation_ids):
        rows = session.connection().execute(_CONVERSATION_STATE, {"ids": list(chunk)})
        found.extend(dict(row._mapping) for row in rows)
    return found


_CONVERSATION_STATE = select(
    CONVERSATION.c.id, CONVERSATION.c.status, CONVERSATION.c.resolved_at,
    *(CONVERSATION.c[name] for name in _TIMESTAMPS),
).where(CONVERSATION.c.id.in_(bindparam("ids", expanding=True)))
_THREADS_OF_ACCOUNT = select(
    CONVERSATION.c.thread_key, CONVERSATION.c.id, CONVERSATION.c.status,
    CONVERSATION.c.resolved_at, *(CONVERSATION.c[name] for name in _TIMESTAMPS),
).where(
    CONVERSATION.c.account_id == bindparam("account_id"),
    CONVERSATION.c.thread_key.in_(bindparam("keys", expanding=True)),
)
_CONVERSATION_FOLD = update(CONVERSATION).where(CONVERSATION.c.id == bindparam("conversation_id"))


def _folded(
    current: dict[str, Any], new: list[NewMessage], now: datetime
) -> tuple[dict[str, Any], bool]:
    """The conversation's new values, and whether its timestamps are exact without SQL.

    A new inbound message reopens a resolved conversation; an answer seen on the platform
    (our echo after the first inbound) moves a new one to open.
    """
    inbound = [m.created_at for m in new if m.direction is Direction.INBOUND]
    outbound = [m.created_at for m in new if m.is_answer]
    opened = _earliest(current["opened_at"], *inbound)
    exact = opened == current["opened_at"] or current["last_outbound_at"] is None
    responses = [t for t in outbound if opened is not None and t >= opened]
    first_response = _earliest(current["first_response_at"], *responses)
    status, resolved_at = current["status"], current["resolved_at"]
    if inbound and status == Status.RESOLVED:
        status, resolved_at = Status.OPEN, None
    elif status == Status.NEW and first_response is not None:
        status = Status.OPEN
    values = {
        "conversation_id": current["id"],
        "opened_at": opened,
        "first_response_at": first_response,
        "last_inbound_at": _latest(current["last_inbound_at"], *inbound),
        "last_outbound_at": _latest(current["last_outbound_at"], *outbound),
        "last_message_at": _latest(current["last_message_at"], *(m.created_at for m in new)),
        "status": status,
        "resolved_at": resolved_at,
        "updated_at": now,
    }
    return values, exact


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)


def _latest(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


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
