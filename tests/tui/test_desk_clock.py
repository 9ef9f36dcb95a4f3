"""The desk stamps every write with its own clock, never the wall clock.

The desk below runs on a clock set years before any day this suite can run on (and before
the fixture's rows), then walks a manager's day through the keys: status, assignment, note,
verification, reveal, hide, reply, privacy redirect, merge. Every time the flows wrote must
come from that clock, so a write that reads the wall clock fails here whatever the date.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Engine, select
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

from socialdesk.config import settings_from_mapping
from socialdesk.tui.app import make_app
from socialdesk.tui.context import Desk, Operator
from tests.tui.desk_fixture import settle
from tests.tui.test_desk import SIZE, conversation_of
from tests.tui.test_desk_triage import add_facebook_marco, open_row, suggest_redirect

DESK_CLOCK = datetime(2009, 1, 3, 18, 15, tzinfo=UTC)
"""Long before the fixture's rows (2026) and any day the suite runs: no wall clock is near."""

SLACK = timedelta(days=1)
"""A write may stamp a time derived from the clock (a retry's next attempt), not far from it."""


def time_cells(store: Engine) -> dict[tuple[str, Any, str], datetime | None]:
    """Every datetime cell of every table, keyed by (table, primary key, column)."""
    cells: dict[tuple[str, Any, str], datetime | None] = {}
    with store.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns if _is_time(c)]
            if not columns:
                continue
            key = list(table.primary_key.columns)
            for row in connection.execute(select(*key, *columns)):
                values = row._mapping
                identity = tuple(values[k.name] for k in key)
                for column in columns:
                    cells[(table.name, identity, column.name)] = values[column.name]
    return cells


def _is_time(column: Any) -> bool:
    return isinstance(column.type, DateTime | UTCDateTime)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class TestDeskClock:
    async def test_every_time_the_desk_writes_comes_from_its_clock(
        self, desk_store: Engine
    ) -> None:
        suggest_redirect(desk_store)
        add_facebook_marco(desk_store)
        before = time_cells(desk_store)
        app = make_app(Desk(engine=desk_store, operator=Operator("AB"), clock=lambda: DESK_CLOCK,
                            poll_seconds=0, settings=settings_from_mapping({}, "test")))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(app, pilot, 0)  # Giulia's public mention with a phone number
            await pilot.press("2", "i")  # open, assigned to me
            await settle(pilot)
            await pilot.press("n", *"called back", "enter")
            await settle(pilot)
            await pilot.press("c", *"call", "enter")  # verified by call-back
            await settle(pilot)
            await pilot.press("v")  # reveal (audited)
            await settle(pilot)
            await pilot.press("h")  # hide, queued and sent at once
            await settle(pilot)
            await pilot.press("r", *"We are on it", "ctrl+s")
            await settle(pilot)
            await pilot.press("g", "y")  # the suggested privacy redirect
            await settle(pilot)
            await settle(pilot)
            await pilot.press("3", "escape")  # resolved
            await settle(pilot)
            await open_row(app, pilot, 2)  # Marco's X DM: merge his Facebook card into it
            await pilot.press("m", "enter", "y")
            await settle(pilot)
            await settle(pilot)
        after = time_cells(desk_store)

        written = {key: value for key, value in after.items()
                   if value is not None and before.get(key) != value}
        off_clock = {key: value for key, value in written.items()
                     if abs(_aware(value) - DESK_CLOCK) > SLACK}
        assert off_clock == {}
        tables = {table for table, _identity, _column in written}
        assert {"audit_log", "note", "contact", "conversation", "outbox_action",
                "privacy_exposure"} <= tables
        giulia = conversation_of(desk_store, "call me")
        assert giulia.resolved_at is not None and _aware(giulia.resolved_at) == DESK_CLOCK
