"""A page's new messages as rows of one multi-row INSERT, personal-data marks included.

One `INSERT … ON CONFLICT DO NOTHING RETURNING` for the page (`Driver.insert`): besides
saving a statement per row, on SQLite it lets the full-text trigger's index flush once per
statement instead of once per row, 2.7x faster than `executemany` into the same table
(benchmarks/ingest.py prints both). Whether a message holds personal data, and where, is
found once by the caller's `find_spans` and written in the message's own INSERT, with the
privacy guard's `undecided` mark on an inbound public one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import Channel, Direction, InboundItem, Visibility
from socialdesk.store.driver import Driver
from socialdesk.store.models import PrivacyState
from socialdesk.store.threads import NewMessage

Span = tuple[int, int, str]
"""`(start, end, type)` of one piece of personal data in a message's text."""
FindSpans = Callable[[str, str | None], list[Span]]
"""Where a text holds personal data, given the brand's previous message in its thread (a
bare "it's 112-4563" is an order number after "what is your order number?"); empty when it
holds none (the privacy detector)."""

MESSAGE_COLUMNS = (
    ("account_id", "integer"), ("conversation_id", "integer"), ("platform", "text"),
    ("external_id", "text"), ("parent_external_id", "text"), ("channel", "text"),
    ("visibility", "text"), ("direction", "text"), ("author_external_id", "text"),
    ("author_handle", "text"), ("author_name", "text"), ("text", "text"),
    ("created_at", "timestamptz"), ("ingested_at", "timestamptz"), ("has_pii", "boolean"),
    ("pii_types", "text"), ("pii_spans", "json"), ("privacy_state", "text"),
    ("automated", "boolean"), ("raw", "json"),
)
_NO_PERSONAL_DATA = (False, None, None, None)
_UNDECIDED = PrivacyState.UNDECIDED.value


@dataclass(frozen=True)
class Marking:
    """What every row of one page is stamped with."""

    now: datetime
    automated: bool
    find_spans: FindSpans | None


def insert_messages(
    driver: Driver,
    account_id: int,
    items: Sequence[InboundItem],
    conversation_ids: dict[str, int],
    marking: Marking,
    opened: Collection[int] = (),
) -> list[NewMessage]:
    """Insert, skipping rows another process stored meanwhile; what was really added.
    `opened` are the conversations the page opened: none holds a message of ours yet."""
    created = {item.external_id: item for item in items}
    ingested_at = driver.time(marking.now)
    answering = {conversation_ids[item.external_id] for item in items
                 if item.direction is Direction.INBOUND}  # only a customer answers us
    answering.difference_update(opened)
    brand_said = (brand_last_said(driver, answering)
                  if marking.find_spans is not None else {})
    rows = []
    time, json, find_spans = driver.time, driver.json, marking.find_spans
    for item in items:  # oldest first: a reply of ours in the page is context for the next
        conversation_id = conversation_ids[item.external_id]
        inbound = item.direction is Direction.INBOUND
        channel, visibility, public = _channel_columns(item.channel)
        spans = (find_spans(item.text, brand_said.get(conversation_id) if inbound else None)
                 if find_spans is not None and item.text else None)
        rows.append((
            account_id, conversation_id, item.platform, item.external_id,
            item.parent_external_id, channel, visibility, item.direction.value,
            item.author_id, item.author_handle, item.author_name, item.text,
            time(item.created_at), ingested_at,
            *(_personal_data(json, spans, inbound and public) if spans else _NO_PERSONAL_DATA),
            marking.automated, json(item.raw if isinstance(item.raw, dict) else dict(item.raw))))
        if not inbound and item.text:
            brand_said[conversation_id] = item.text
    new: list[NewMessage] = []
    for message_id, external_id, conversation_id in driver.insert(
        "message", MESSAGE_COLUMNS, rows,
        "ON CONFLICT (platform, external_id) DO NOTHING "
        "RETURNING id, external_id, conversation_id",
    ):
        item = created[external_id]
        new.append(NewMessage(int(message_id), int(conversation_id), item.direction,
                              item.created_at, marking.automated))
    return new


def brand_last_said(driver: Driver, conversation_ids: set[int]) -> dict[int, str]:
    """The newest message of ours in each conversation, stored before this page: what a
    customer's message in the page answers (one statement a page; a history walked newest
    first meets our question only after the answer, and a rescan reads it then)."""
    if not conversation_ids:
        return {}
    ids = sorted(conversation_ids)
    outbound = Direction.OUTBOUND.value
    if driver.postgres:
        sql = ("SELECT DISTINCT ON (conversation_id) conversation_id, text FROM message "
               f"WHERE direction = %s AND conversation_id {driver.any_of(len(ids))} "
               "ORDER BY conversation_id, created_at DESC, id DESC")
    else:  # SQLite: a bare column beside max() comes from the row holding the max
        sql = ("SELECT conversation_id, text, max(created_at) FROM message "
               f"WHERE direction = ? AND conversation_id {driver.any_of(len(ids))} "
               "GROUP BY conversation_id")
    rows = driver.rows(sql, (outbound, *driver.any_values(ids)))
    return {int(row[0]): row[1] for row in rows if row[1]}


def _personal_data(
    json: Callable[[Any], str | None], spans: list[Span], exposed: bool
) -> tuple[bool, str | None, str | None, str | None]:
    """has_pii, types and spans (offsets and types, never values), and the guard's mark:
    only a customer's public message (`exposed`) can leave personal data in public."""
    return (
        True,
        ",".join(sorted({kind for _start, _end, kind in spans})),
        json([[start, end, kind] for start, end, kind in spans]),
        _UNDECIDED if exposed else None,
    )


@functools.cache
def _channel_columns(channel: Channel) -> tuple[str, str, bool]:
    """A channel's value, its visibility's, and whether it is public: remembered, each
    read through an enum property cost a message row a microsecond."""
    visibility = channel.visibility
    return channel.value, visibility.value, visibility is Visibility.PUBLIC
