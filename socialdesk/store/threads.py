"""Threads a page's new items into conversations and folds them into each one's state.

An item joins its parent's conversation, else its thread's; a thread seen for the first
time opens a conversation. The new messages move each conversation's timestamps and status
(reopen on a new inbound, `open` on a first answer), computed from the stored values: one
lookup, one multi-row INSERT and one UPDATE statement per page. A conversation the page
opens is inserted already folded, due time included: an UPDATE after the INSERT rewrote
its entries in a dozen indexes, 2 of SQLite's 17 CPU µs per item of a page of new threads
(benchmarks/ingest.py, the page's statements replayed); on PostgreSQL it also re-ran the
row's foreign-key checks and notified the desks twice, 27 µs of server CPU a conversation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlmodel import Session

from connectors.base import Direction, InboundItem
from socialdesk.store.bulk import chunks
from socialdesk.store.driver import Driver, Query
from socialdesk.store.due_clock import DueClock
from socialdesk.store.models import Status
from socialdesk.store.tables import CONVERSATION, MESSAGE

_Pending = tuple[str, str]
"""("new", thread_key): a conversation this page opens, created in bulk afterwards."""


_TIMESTAMPS = ("opened_at", "first_response_at", "last_inbound_at", "last_outbound_at",
               "last_message_at")
_TIMES = ("resolved_at", *_TIMESTAMPS, "sla_started_at")
_STATE_COLUMNS = ", ".join(("id", "status", *_TIMES))

THREAD_CONVERSATIONS = (f"SELECT thread_key, {_STATE_COLUMNS} FROM conversation "
                        "WHERE account_id = {mark} AND thread_key {any_of}")
"""The threads' lookup: an index lookup on `uq_conversation_thread` at any size."""


class Arrival(NamedTuple):
    """A message as the fold sees it, before its INSERT (`NewMessage` after it)."""

    direction: Direction
    created_at: datetime
    automated: bool


@dataclass
class _Opened:
    """A conversation the page opens, as its INSERT wrote it."""

    state: dict[str, Any]
    """Its state before the page (no times), which the fold started from."""
    arrivals: int
    """Messages folded in: one fewer inserted (another process stored it) folds again."""
    opened_at: datetime | None
    reopened_at: datetime | None


@dataclass
class Threading:
    """Where a page's new items go, and the state of the conversations they join."""

    conversation_ids: dict[str, int] = field(default_factory=dict)
    """external_id -> conversation id."""
    states: dict[int, dict[str, Any]] = field(default_factory=dict)
    """The stored state of the conversations read, so the fold need not read them again."""
    opened: dict[int, _Opened] = field(default_factory=dict)
    """The conversations the page opened, inserted folded: nothing was stored in them."""


def thread_items(
    driver: Driver,
    account_id: int,
    items: list[InboundItem],
    contact_ids: dict[str, int],
    by_parent: dict[str, int],
    threads: Iterable[tuple[Any, ...]],
    stamp: tuple[datetime, bool],
    due_clock: DueClock | None,
) -> Threading:
    """Join each item to its parent's conversation, else its thread's, opening those
    missing. `threads` are the rows of `thread_lookups`; `stamp` is the page's time and
    whether its messages are automated (`Marking`)."""
    threading = Threading()
    by_thread: dict[str, int | _Pending] = {}
    for row in threads:
        state = _state(driver, row[1:])
        by_thread[row[0]] = state["id"]
        threading.states[state["id"]] = state
    assigned: dict[str, int | _Pending] = {}
    opening: dict[str, list[InboundItem]] = {}
    for item in items:
        parent = item.parent_external_id or ""
        conversation = (
            assigned.get(parent) or by_parent.get(parent) or by_thread.get(item.thread_key)
        )
        if conversation is None:
            conversation = ("new", item.thread_key)
            by_thread[item.thread_key] = conversation
            opening[item.thread_key] = []
        if not isinstance(conversation, int):
            opening[conversation[1]].append(item)
        assigned[item.external_id] = conversation
    opened = _open_conversations(driver, account_id, opening, contact_ids, stamp, due_clock,
                                 threading)
    threading.conversation_ids = {key: value if isinstance(value, int) else opened[value[1]]
                                  for key, value in assigned.items()}
    return threading


def thread_lookups(driver: Driver, account_id: int, items: list[InboundItem]) -> list[Query]:
    """The queries that find the conversations of the items' threads (for `thread_items`)."""
    return driver.lookups(THREAD_CONVERSATIONS, account_id,
                          sorted({item.thread_key for item in items}))


def _open_conversations(
    driver: Driver, account_id: int, opening: dict[str, list[InboundItem]],
    contact_ids: dict[str, int], stamp: tuple[datetime, bool], due_clock: DueClock | None,
    threading: Threading,
) -> dict[str, int]:
    """thread_key -> new conversation id, for the threads in `opening` (the page's items
    each takes, the first one opened it), each inserted folded with its items and timed
    (`threading.opened`). A thread our own echo started is not new work."""
    if not opening:
        return {}
    now, automated = stamp
    created = driver.time(now)
    rows = []
    opened: dict[str, _Opened] = {}
    for thread_key, items in opening.items():
        opener = items[0]
        inbound = opener.direction is Direction.INBOUND
        state = {
            "id": 0, "status": (Status.NEW if inbound else Status.RESOLVED).value,
            **dict.fromkeys(_TIMES)}
        row = (account_id, opener.channel.value, opener.channel.visibility.value, thread_key,
               contact_ids.get(opener.author_id or "") if inbound else None)
        values, _exact = _folded(
            state, [Arrival(item.direction, item.created_at, automated) for item in items], now)
        reopened_at = _reopened_at(state, values, items)
        clock = due_clock.opening(values["opened_at"], reopened_at) if due_clock else None
        opened[thread_key] = _Opened(state, len(items), values["opened_at"], reopened_at)
        rows.append((*row, str(values["status"]), created, created,
                     *(driver.time(values[name]) for name in _TIMESTAMPS),
                     *(driver.time(moment) for moment in clock or (None, None))))
    ids = {thread_key: int(new_id) for thread_key, new_id in
           driver.insert("conversation", _OPENED_COLUMNS, rows, "RETURNING thread_key, id")}
    for thread_key, conversation_id in ids.items():
        one = threading.opened[conversation_id] = opened[thread_key]
        one.state["id"] = conversation_id
        if due_clock is not None:
            due_clock.opened(conversation_id, one.opened_at, one.reopened_at)
    return ids


_OPENED_COLUMNS = (
    ("account_id", "integer"), ("channel", "text"), ("visibility", "text"),
    ("thread_key", "text"), ("contact_id", "integer"), ("status", "text"),
    ("created_at", "timestamptz"), ("updated_at", "timestamptz"),
    *((name, "timestamptz") for name in _TIMESTAMPS),
    ("sla_started_at", "timestamptz"), ("first_response_due_at", "timestamptz"),
)


class NewMessage(NamedTuple):
    """A message a page really added (a tuple: a page makes hundreds)."""

    id: int
    conversation_id: int
    direction: Direction
    created_at: datetime
    automated: bool


def refresh_conversations(
    session: Session, driver: Driver, new_messages: list[NewMessage], threading: Threading,
    now: datetime, due_clock: DueClock | None,
) -> dict[int, datetime]:
    """Fold the new messages into each conversation's timestamps, status and due time;
    return the conversations this reopened, with the time of the inbound message that
    reopened each.

    Computed here from the stored values, in one UPDATE per page; a conversation whose
    first inbound moves earlier than an outbound already stored gets its timestamps
    recomputed in SQL afterwards, since its first response may be a message this page did
    not bring, and its due time after that. The conversations the page opened were
    inserted folded (`thread_items`): only one missing some of its messages is folded
    again, from no state, and its due time rewritten even where it now has none.
    """
    by_conversation: dict[int, list[NewMessage]] = {}
    for message in new_messages:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    reopened: dict[int, datetime] = {}
    refolded = []
    for conversation_id, opened in threading.opened.items():
        if len(by_conversation.get(conversation_id, ())) == opened.arrivals:
            del by_conversation[conversation_id]
            if opened.reopened_at is not None:
                reopened[conversation_id] = opened.reopened_at
        else:
            by_conversation.setdefault(conversation_id, [])
            refolded.append(opened.state)
    states = threading.states
    unread = sorted(set(by_conversation) - set(states) - set(threading.opened))
    current_states = [states[c] for c in by_conversation if c in states]
    updates: list[tuple[Any, ...]] = []
    recompute: list[int] = []
    for current in current_states + _current_states(driver, unread) + refolded:
        conversation_id = current["id"]
        arrived = by_conversation[conversation_id]
        values, exact = _folded(current, arrived, now)
        reopened_at = _reopened_at(current, values, arrived)
        if reopened_at is not None:
            reopened[conversation_id] = reopened_at
        clock = None
        if not exact:
            recompute.append(conversation_id)
        elif due_clock is not None:
            clock = due_clock(conversation_id, values["opened_at"], current["sla_started_at"],
                              reopened_at)
        updates.append((*(driver.time(values[name]) for name in _TIMESTAMPS),
                        str(values["status"]), driver.time(values["resolved_at"]),
                        driver.time(now),
                        *(driver.time(moment) for moment in clock or (None, None)),
                        conversation_id))
    folded = len(updates) - len(refolded)
    driver.update("conversation", _FOLD, updates[:folded])
    driver.update("conversation", _REFOLD, updates[folded:])
    if recompute:
        _recompute(session, driver, recompute, now, due_clock, reopened)
    return reopened


def _reopened_at(current: dict[str, Any], values: dict[str, Any],
                 arrived: Sequence[Arrival | NewMessage | InboundItem]) -> datetime | None:
    """The time of the inbound message that reopened a resolved conversation, if one did."""
    if not current["status"] == Status.RESOLVED != values["status"]:
        return None
    return min(m.created_at for m in arrived if m.direction is Direction.INBOUND)


_FOLD = (
    *((name, "timestamptz", "{value}") for name in _TIMESTAMPS),
    ("status", "text", "{value}"), ("resolved_at", "timestamptz", "{value}"),
    ("updated_at", "timestamptz", "{value}"),
    *((name, "timestamptz", f"COALESCE({{value}}, {name})")
      for name in ("sla_started_at", "first_response_due_at")),
)
"""The fold's UPDATE (`Driver.update`); a NULL clock leaves the stored one."""
_REFOLD = (*_FOLD[:-2], *((name, "timestamptz", "{value}")
                          for name in ("sla_started_at", "first_response_due_at")))
"""The same for a conversation the page opened and folded again: its INSERT's clock goes."""


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
    for name, value in zip(_TIMES, row[2:], strict=True):
        state[name] = driver.read_time(value)
    return state


def _folded(
    current: dict[str, Any], new: Sequence[Arrival | NewMessage], now: datetime
) -> tuple[dict[str, Any], bool]:
    """The conversation's new values, and whether its timestamps are exact without SQL.

    A new inbound message reopens a resolved conversation; an answer seen on the platform
    (our echo after the first inbound) moves a new one to open. One pass over the page's
    messages: this runs for every conversation of every page.
    """
    first_in = last_in = first_answer = last_answer = None
    last = current["last_message_at"]
    for message in new:
        at = message.created_at
        if message.direction is Direction.INBOUND:
            first_in = at if first_in is None or at < first_in else first_in
            last_in = at if last_in is None or at > last_in else last_in
        elif not message.automated:
            first_answer = at if first_answer is None or at < first_answer else first_answer
            last_answer = at if last_answer is None or at > last_answer else last_answer
        last = at if last is None or at > last else last
    opened = _earliest(current["opened_at"], first_in)
    exact = opened == current["opened_at"] or current["last_outbound_at"] is None
    first_response = current["first_response_at"]
    if opened is not None and last_answer is not None and last_answer >= opened:
        earliest_answer = min(m.created_at for m in new if m.direction is Direction.OUTBOUND
                              and not m.automated and m.created_at >= opened)
        first_response = _earliest(first_response, earliest_answer)
    status, resolved_at = current["status"], current["resolved_at"]
    if first_in is not None and status == Status.RESOLVED:
        status, resolved_at = Status.OPEN, None
    elif status == Status.NEW and first_response is not None:
        status = Status.OPEN
    values = {
        "conversation_id": current["id"],
        "opened_at": opened,
        "first_response_at": first_response,
        "last_inbound_at": _latest(current["last_inbound_at"], last_in),
        "last_outbound_at": _latest(current["last_outbound_at"], last_answer),
        "last_message_at": last,
        "status": status,
        "resolved_at": resolved_at,
        "updated_at": now,
    }
    return values, exact


def _earliest(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or (second is not None and second < first):
        return second
    return first


def _latest(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or (second is not None and second > first):
        return second
    return first


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
