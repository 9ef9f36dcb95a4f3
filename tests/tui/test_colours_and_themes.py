"""The desk's colours as the README says (issue 17, point 9): "open" is yellow, a late
answer does not look like personal data, the cursor's row is lit from edge to edge, and a
light theme gets light rows."""

from __future__ import annotations

import colorsys
from datetime import timedelta

from rich.color import ColorTriplet
from rich.segment import Segment
from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.context import Desk, Operator
from socialdesk.tui.widgets.queue_list import ConversationList
from tests.tui.desk_fixture import NOW, settle
from tests.tui.test_desk import SIZE, conversation_of


def row_segments(app: DeskApp, customer: str) -> list[Segment]:
    """The drawn cells of the customer's row, with their styles."""
    queue = app.screen.query_one(ConversationList)
    for y in range(queue.size.height):
        strip = queue.render_line(y)
        if customer in strip.text:
            return [segment for segment in strip if segment.text]
    raise AssertionError(f"{customer} is not on the screen")


def cell(segments: list[Segment], text: str) -> Segment:
    return next(segment for segment in segments if text in segment.text)


def drawn(app: DeskApp, colour: object) -> ColorTriplet:
    """The colour as the terminal gets it: ANSI names through the app's palette."""
    assert colour is not None
    return colour.get_truecolor(app.ansi_theme)  # type: ignore[attr-defined, no-any-return]


def hue_degrees(colour: ColorTriplet) -> float:
    hue, _lightness, _saturation = colorsys.rgb_to_hls(*(part / 255 for part in colour))
    return hue * 360


def lightness(colour: ColorTriplet) -> float:
    return colorsys.rgb_to_hls(*(part / 255 for part in colour))[1]


def make_overdue(store: Engine, customer_text: str) -> None:
    """The first response was due an hour ago and nobody has answered."""
    with Session(store) as session:
        conversation = conversation_of(store, customer_text)
        conversation.sla_started_at = NOW - timedelta(hours=2)
        conversation.first_response_due_at = NOW - timedelta(hours=1)
        session.add(conversation)
        session.commit()


class TestStatusColours:
    async def test_open_is_drawn_yellow_not_orange(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            status = cell(row_segments(desk_app, "Marco"), "open")
            hue = hue_degrees(drawn(desk_app, status.style and status.style.color))
            assert 48 <= hue <= 65, f"open is drawn at hue {hue:.0f}° (orange is about 30°)"

    async def test_an_overdue_wait_does_not_look_like_personal_data(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        make_overdue(desk_store, "call me at +39 347")  # Giulia: personal data, and late
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("down")  # the cursor elsewhere: her row in its own colours
            await settle(pilot)
            giulia = row_segments(desk_app, "Giulia")
            late, pii = cell(giulia, "+1h"), cell(giulia, "PII")
            assert late.style != pii.style
            assert late.style and pii.style and late.style.bgcolor != pii.style.bgcolor
            red = drawn(desk_app, late.style.color)
            assert red.red > 2 * red.green and (hue_degrees(red) > 330 or hue_degrees(red) < 15), \
                "late is red, as the README says"


class TestRows:
    async def test_the_cursor_row_is_highlighted_across_every_column(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("down", "down")  # Marco: a dim wait and assignee, no badge
            await settle(pilot)
            cursor_row = row_segments(desk_app, "Marco")
            other_row = row_segments(desk_app, "Anna")
            highlight = {segment.style and segment.style.bgcolor for segment in cursor_row}
            plain = {segment.style and segment.style.bgcolor for segment in other_row}
            assert len(highlight) == 1 and None not in highlight, cursor_row
            assert highlight.isdisjoint(plain)

    async def test_a_light_theme_gets_light_rows(self, desk_store: Engine) -> None:
        app = make_app(Desk(engine=desk_store, operator=Operator("AB"), clock=lambda: NOW,
                            poll_seconds=0, theme="textual-light"))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.theme == "textual-light"
            for customer in ("Giulia", "Marco", "Sara"):
                for segment in row_segments(app, customer):
                    assert segment.style is not None and segment.style.bgcolor is not None, \
                        f"{segment.text!r} would show the terminal's own (dark) background"
                    assert lightness(drawn(app, segment.style.bgcolor)) > 0.6, segment

    async def test_an_unknown_theme_is_reported_and_the_desk_opens(
        self, desk_store: Engine
    ) -> None:
        app = make_app(Desk(engine=desk_store, operator=Operator("AB"), clock=lambda: NOW,
                            poll_seconds=0, theme="papyrus"))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.theme == "textual-dark"
            assert any("no theme named 'papyrus'" in notice.message
                       for notice in app._notifications)
