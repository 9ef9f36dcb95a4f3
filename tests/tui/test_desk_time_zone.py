"""One time zone in the desk (issue 17, point 8, the desk's part): thread, card and SLA due
times in `[hours] timezone`, named where they are shown. The thread used to print UTC and
the card bare times, an hour apart from each other and from the operator's wall clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from textual.widgets import Static

from socialdesk.clock import zone_name
from socialdesk.config import settings_from_mapping
from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.context import Desk, Operator
from socialdesk.tui.launch import desk_from_settings
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from socialdesk.tui.times import due_time, full_time
from socialdesk.tui.widgets.conversation_thread import MessageBubble
from tests.tui.desk_fixture import NOW, settle
from tests.tui.screen_text import widget_text
from tests.tui.test_desk import SIZE, conversation_of

NEW_YORK = ZoneInfo("America/New_York")
"""Neither UTC nor the default Rome: NOW (12:00 UTC on 30 Nov) is 07:00 EST there."""


def new_york_desk(store: Engine) -> DeskApp:
    settings = settings_from_mapping({"hours": {"timezone": "America/New_York"}}, "test")
    desk = desk_from_settings(settings, store, initials="AB")
    desk.clock, desk.poll_seconds = (lambda: NOW), 0
    return make_app(desk)


def set_due(store: Engine, customer_text: str, due: datetime) -> None:
    with Session(store) as session:
        conversation = conversation_of(store, customer_text)
        conversation.sla_started_at = NOW - timedelta(hours=1)
        conversation.first_response_due_at = due
        session.add(conversation)
        session.commit()


def part(app: DeskApp, selector: str) -> str:
    return " ".join(widget_text(app.screen.query_one(selector, Static).content).split())


def thread(app: DeskApp) -> str:
    assert isinstance(app.screen, ConversationScreen)
    return " ".join(" ".join(widget_text(bubble.content).split())
                    for bubble in app.screen.query(MessageBubble))


class TestTheDeskShowsItsOwnZone:
    async def test_thread_card_and_due_time_in_the_configured_zone(
        self, desk_store: Engine
    ) -> None:
        set_due(desk_store, "call me at +39 347", NOW + timedelta(hours=2))
        app = new_york_desk(desk_store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("enter")  # Giulia wrote at 11:55 UTC
            await settle(pilot)
            assert "2026-11-30 06:55 EST" in thread(app)
            assert "UTC" not in thread(app)
            card = part(app, "#card-body")
            assert "times in America/New_York" in card
            assert "30 Nov 06:55" in card and "11:55" not in card
            assert "first response due in 2h (09:00 EST)" in part(app, "#summary")

    async def test_an_overdue_first_response_says_when_it_was_due(
        self, desk_store: Engine
    ) -> None:
        set_due(desk_store, "call me at +39 347", NOW - timedelta(hours=13))
        app = new_york_desk(desk_store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert "overdue by 13h (was due 29 Nov 18:00 EST)" in part(app, "#summary")

    async def test_without_hours_the_desk_reads_rome_time(self, desk_store: Engine) -> None:
        desk = desk_from_settings(settings_from_mapping({}, "test"), desk_store, "AB")
        app = make_app(Desk(engine=desk_store, operator=Operator("AB"), clock=lambda: NOW,
                            poll_seconds=0, zone=desk.zone))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert "2026-11-30 12:55 CET" in thread(app)
            assert "times in Europe/Rome" in part(app, "#card-body")


class TestTimeLabels:
    @pytest.mark.parametrize(("zone", "summer", "winter"), [
        ("Europe/Rome", "CEST", "CET"),
        ("America/Sao_Paulo", "UTC-03", "UTC-03"),  # letters-less zones get an offset
        ("UTC", "UTC", "UTC"),
    ])
    def test_the_zone_is_named_as_people_read_it(self, zone: str, summer: str,
                                                 winter: str) -> None:
        july, december = datetime(2026, 7, 1, 12, tzinfo=ZoneInfo("UTC")), NOW
        assert zone_name(july, ZoneInfo(zone)) == summer
        assert zone_name(december, ZoneInfo(zone)) == winter

    def test_a_due_time_on_another_day_gives_the_day(self) -> None:
        rome = ZoneInfo("Europe/Rome")
        assert due_time(NOW + timedelta(hours=2), NOW, rome) == "15:00 CET"
        assert due_time(NOW + timedelta(hours=12), NOW, rome) == "01 Dec 01:00 CET"
        assert full_time(None, rome) == "-"
