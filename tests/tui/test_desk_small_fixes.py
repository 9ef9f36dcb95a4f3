"""Issue 17, points 7 and 10, as the operator meets them: text that used to be cut at 80
columns, the search bar Esc closes from the list, an empty result that says how to clear it,
a note not lost to one Esc, `v` masking again, socialdesk's own command palette, and the
dashboard's sparklines with their days and scale."""

from __future__ import annotations

import io
import re

from rich.console import Console
from sqlalchemy import Engine
from sqlmodel import Session, select
from textual.command import CommandList, CommandPalette
from textual.geometry import Region
from textual.widgets import Input, Static

from socialdesk.store.models import Note
from socialdesk.tui.app import DeskApp
from socialdesk.tui.screens.conversation_screen import ConversationScreen, MessageBubble
from socialdesk.tui.screens.dashboard_screen import DashboardScreen
from socialdesk.tui.screens.modals import ChoiceModal, ConfirmModal, NoteModal
from tests.tui.desk_fixture import settle
from tests.tui.screen_text import filter_bar, widget_text
from tests.tui.test_card_history import marco_with_history
from tests.tui.test_desk import audit_actions, customers

NARROW = (80, 24)


def visible_text(app: DeskApp) -> str:
    """The terminal as the operator sees it, every layer composed, as plain text."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True,
                      color_system=None, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    return console.export_text()


def visible_inside(app: DeskApp, region: Region) -> str:
    """What the operator sees within `region` (a dialog's box): the screen behind it may
    show a letter right next to its border, which would run into the dialog's words."""
    lines = visible_text(app).splitlines()[region.y:region.bottom]
    return "\n".join(line[region.x:region.right] for line in lines)


def squeezed(text: str) -> str:
    """`text` with its line breaks, box edges and runs of spaces taken out: a sentence
    wrapped over two lines of a bordered box reads as one."""
    return re.sub(r"\s+", " ", re.sub(r"[│┃█▌▐▎▊]", " ", text))


async def open_row(app: DeskApp, pilot: object, customer: str) -> None:
    await pilot.press(*(["down"] * customers(app).index(customer)), "enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


class TestNothingCutAt80Columns:
    async def test_the_filter_summary_wraps_instead_of_being_cut(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await pilot.press("w", "p", "o")  # unassigned, personal data, longest waiting
            await settle(pilot)
            summary = filter_bar(desk_app)
            assert summary == ("2 conversations · unassigned · personal data in public only · "
                               "longest waiting first · x clears")
            assert summary in squeezed(visible_text(desk_app))

    async def test_an_unfiltered_queue_says_so_in_one_line(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            assert filter_bar(desk_app) == "6 conversations · no filter · newest first"
            assert visible_text(desk_app).splitlines()[0].strip() == filter_bar(desk_app)

    async def test_the_private_composers_title_is_read_whole(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, "Anna")  # a Facebook comment
            await pilot.press("p")
            await settle(pilot)
            destination = desk_app.screen.query_one("#destination", Static)
            title = str(destination.content)
            assert title.endswith("(Messenger is not open to them)")
            assert title in squeezed(visible_inside(desk_app, destination.region))

    async def test_the_history_pickers_title_is_read_whole(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        marco_with_history(desk_store)
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, "Marco")
            await pilot.press("o")
            await settle(pilot)
            assert isinstance(desk_app.screen, ChoiceModal)
            title = desk_app.screen.title_text
            assert "Esc in one returns here" in title
            assert title in squeezed(visible_text(desk_app))

    async def test_the_dashboards_totals_are_on_a_line_of_their_own(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await pilot.press("d")
            await settle(pilot)
            lines = [line.strip() for line in visible_text(desk_app).splitlines()]
            assert "FB visitor post: 1 inbound message in 14 days · ▁ 0 to █ 1 a day" in lines


class TestSearchBar:
    async def test_escape_from_the_list_closes_the_bar_and_clears_the_search(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await pilot.press("slash", *"refund", "enter")
            await settle(pilot)
            search = desk_app.screen.query_one("#search", Input)
            assert customers(desk_app) == ["Marco"] and search.display
            assert not search.has_focus  # Enter took the operator to the list
            await pilot.press("escape")
            await settle(pilot)
            assert not search.display and search.value == ""
            assert len(customers(desk_app)) == 6 and "search" not in filter_bar(desk_app)

    async def test_escape_in_the_bar_closes_it_too(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await pilot.press("slash", *"pacco")
            await pilot.press("escape")
            await settle(pilot)
            assert not desk_app.screen.query_one("#search", Input).display
            assert len(customers(desk_app)) == 6


class TestEmptyResult:
    async def test_filters_that_match_nothing_say_how_to_clear_them(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await pilot.press("s", "s", "s", "p")  # resolved, with personal data: none
            await settle(pilot)
            assert customers(desk_app) == []
            text = squeezed(visible_text(desk_app))
            assert "No conversation matches these filters. Press x to clear them all." in text
            await pilot.press("x")
            await settle(pilot)
            assert len(customers(desk_app)) == 6
            assert "No conversation matches" not in visible_text(desk_app)

    async def test_a_search_that_finds_nothing_says_esc_clears_it(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await pilot.press("slash", *"zzzq", "enter")
            await settle(pilot)
            assert "No message matches “zzzq”. Press Esc to clear the search" in squeezed(
                visible_text(desk_app))
            await pilot.press("escape")
            await settle(pilot)
            assert len(customers(desk_app)) == 6


class TestNote:
    async def test_escape_with_text_asks_first_and_no_keeps_the_note(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, "Giulia")
            await pilot.press("n", *"called twice", "escape")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConfirmModal)
            assert "Drop this note?" in squeezed(visible_text(desk_app))
            await pilot.press("n")  # no: back to the note, text intact
            await settle(pilot)
            assert isinstance(desk_app.screen, NoteModal)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            with Session(desk_store) as session:
                assert session.exec(select(Note).where(Note.text == "called twice")).one()

    async def test_escape_on_an_empty_note_closes_at_once(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, "Giulia")
            await pilot.press("n", "escape")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)


class TestRevealToggles:
    async def test_v_again_masks_the_personal_data(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, "Giulia")

            def thread() -> str:
                return widget_text(desk_app.screen.query_one(MessageBubble).content)

            await pilot.press("v")
            await settle(pilot)
            assert "+39 347 123 4567" in thread()
            await pilot.press("v")
            await settle(pilot)
            assert "347 123 4567" not in thread() and "+39 *** *** **67" in thread()
            summary = widget_text(desk_app.screen.query_one("#summary", Static).content)
            assert "REVEALED" not in summary
            assert [action for _, action, _ in audit_actions(desk_store)] == ["reveal"]


class TestCommandPalette:
    async def palette(self, app: DeskApp, pilot: object) -> list[str]:
        await pilot.press("ctrl+p")  # type: ignore[attr-defined]
        await settle(pilot)  # type: ignore[arg-type]
        assert isinstance(app.screen, CommandPalette)
        options = app.screen.query_one(CommandList)
        return [str(options.get_option_at_index(index).prompt).split("\n")[0]
                for index in range(options.option_count)]

    async def test_it_lists_the_desks_commands_and_quit_once(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            listed = await self.palette(desk_app, pilot)
            assert "Search (/)" in listed and "Dashboard (d)" in listed
            assert [entry for entry in listed if entry.startswith("Quit")] == ["Quit (q)"]
            textual_own = ("Copy", "Focus", "Keys", "Screenshot", "Maximize", "palette")
            assert not [entry for entry in listed if entry.startswith(textual_own)], listed

    async def test_on_a_conversation_it_lists_its_keys_not_scrolling(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            listed = await self.palette(desk_app, pilot)
            assert "Reply (r)" in listed and "Reveal (v)" in listed
            assert not [entry for entry in listed if entry.startswith(("Scroll", "Page"))]


class TestDashboardScale:
    async def test_each_sparkline_has_its_first_and_last_day_and_its_scale(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(desk_app.screen, DashboardScreen)
            lines = [line.strip() for line in visible_text(desk_app).splitlines()]
            index = lines.index("X mention: 2 inbound messages in 14 days · ▁ 0 to █ 2 a day")
            bars = lines[index + 1]
            assert bars.startswith("17 Nov ▁") and bars.endswith("█ 30 Nov")  # the fixture's 30 Nov


class TestSearchAsTyped:
    async def test_brackets_in_a_search_are_shown_as_typed(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=NARROW) as pilot:
            await settle(pilot)
            await pilot.press("slash")
            desk_app.screen.query_one("#search", Input).value = "[bold]x[/bold"
            await pilot.press("enter")
            await settle(pilot)
            text = squeezed(visible_text(desk_app))
            assert "search “[bold]x[/bold”" in text
            assert "No message matches “[bold]x[/bold”" in text
