"""The queue's cursor stays on the conversation the operator put it on (issue 17, point 3).

New customers arrive at the top of a newest-first queue while the operator reads it: the
row under the cursor used to become someone else, and Enter opened the wrong customer.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.tui.app import DeskApp
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from socialdesk.tui.screens.queue_screen import InboxScreen
from socialdesk.tui.widgets.queue_list import ConversationList
from tests.tui.desk_fixture import NOW, add_conversation, settle
from tests.tui.test_desk import SIZE, conversation_of, customers


def row_under_cursor(app: DeskApp) -> str:
    """The customer on the highlighted row, as drawn."""
    queue = app.screen.query_one(ConversationList)
    return customers(app)[queue.cursor - int(queue.scroll_offset.y)]


def opened_conversation(app: DeskApp) -> int:
    assert isinstance(app.screen, ConversationScreen)
    return app.screen.conversation_id


class TestCursorFollowsTheConversation:
    async def test_rows_arriving_above_leave_the_cursor_on_its_customer(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        marco = conversation_of(desk_store, "refund for booking ABC123").id
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("down", "down")
            await settle(pilot)
            assert row_under_cursor(desk_app) == "Marco"
            for minute in (1, 2):
                add_conversation(desk_store, "Newcomer", f"hello {minute}",
                                 NOW + timedelta(minutes=minute))
            desk_app.check_for_changes()
            await settle(pilot)
            assert customers(desk_app)[:2] == ["Newcomer", "Newcomer"], "they came in above"
            assert row_under_cursor(desk_app) == "Marco"
            await pilot.press("enter")
            await settle(pilot)
            assert opened_conversation(desk_app) == marco

    async def test_the_cursor_moves_with_its_conversation_when_it_moves_up(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        """Marco writes again: his conversation goes to the top of a newest-first queue,
        and the cursor with it."""
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("down", "down")
            await settle(pilot)
            with Session(desk_store) as session:
                marco = conversation_of(desk_store, "refund for booking ABC123")
                marco.last_message_at = marco.updated_at = NOW + timedelta(minutes=1)
                session.add(marco)
                session.commit()
            desk_app.check_for_changes()
            await settle(pilot)
            assert customers(desk_app)[0] == "Marco"
            assert row_under_cursor(desk_app) == "Marco"

    async def test_after_esc_the_cursor_is_on_the_conversation_just_left(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        """Customers arriving while the conversation is open move its row; Esc comes back
        to it, and Enter opens it again."""
        marco = conversation_of(desk_store, "refund for booking ABC123").id
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("down", "down", "enter")
            await settle(pilot)
            assert opened_conversation(desk_app) == marco
            add_conversation(desk_store, "Newcomer", "anyone?", NOW + timedelta(minutes=1))
            desk_app.check_for_changes()
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(desk_app.screen, InboxScreen)
            assert customers(desk_app)[0] == "Newcomer"
            assert row_under_cursor(desk_app) == "Marco"
            await pilot.press("enter")
            await settle(pilot)
            assert opened_conversation(desk_app) == marco

    async def test_the_cursor_follows_its_conversation_down_a_long_queue(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        """Past the first page of rows, too: the rows around the cursor are read again."""
        for number in range(150):
            add_conversation(desk_store, f"Bulk {number}", f"message {number}",
                             NOW - timedelta(days=2, minutes=number))
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            queue = desk_app.screen.query_one(ConversationList)
            for _ in range(5):
                await pilot.press("pagedown")
                await settle(pilot)
            chosen = queue.current
            assert chosen is not None and queue.cursor > 100
            before = queue.cursor
            for minute in (1, 2, 3):
                add_conversation(desk_store, "Newcomer", f"hello {minute}",
                                 NOW + timedelta(minutes=minute))
            desk_app.check_for_changes()
            await settle(pilot)
            assert queue.cursor == before + 3
            current = queue.current
            assert current is not None and current.id == chosen.id
