"""The desk, driven from the keyboard: what the operator sees and what lands in the store."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from textual.widgets import Static

from socialdesk.store.models import AuditEntry, Conversation, Message, Note
from socialdesk.tui.app import CONVERSATION_SCREEN, DeskApp
from socialdesk.tui.screens.conversation_screen import ConversationScreen, MessageBubble
from socialdesk.tui.screens.dashboard_screen import DashboardScreen
from socialdesk.tui.screens.modals import HelpScreen, NoteModal
from socialdesk.tui.screens.queue_screen import InboxScreen
from socialdesk.tui.widgets.queue_list import ConversationList
from tests.tui.desk_fixture import NOW, add_conversation, settle
from tests.tui.screen_text import filter_bar, queue_lines, screen_text, widget_text

SIZE = (120, 30)


def customers(app: DeskApp) -> list[str]:
    """The customer column of each visible row, top to bottom."""
    names = ("Giulia", "Marco", "Anna", "Luca", "Sara", "Hostile", "Newcomer")
    return [next(name for name in names if name in line) for line in queue_lines(app)]


def conversation_of(store: Engine, customer_text: str) -> Conversation:
    with Session(store) as session:
        message = session.exec(select(Message).where(
            Message.text.contains(customer_text))).first()  # type: ignore[attr-defined]
        assert message is not None
        conversation = session.get(Conversation, message.conversation_id)
        assert conversation is not None
        return conversation


def audit_actions(store: Engine) -> list[tuple[str, str, str | None]]:
    with Session(store) as session:
        return [(entry.actor, entry.action, entry.target_id)
                for entry in session.exec(select(AuditEntry).order_by(AuditEntry.id))]


class TestInbox:
    async def test_queue_shows_every_conversation_newest_first(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert isinstance(desk_app.screen, InboxScreen)
            assert customers(desk_app) == ["Giulia", "Hostile", "Marco", "Anna", "Luca", "Sara"]
            assert filter_bar(desk_app).startswith("6 conversations")

    async def test_each_row_shows_status_channel_wait_and_personal_data_flag(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            giulia, _, marco, anna, luca, sara = queue_lines(desk_app)
            assert "new" in giulia and "X mention" in giulia and " 5m " in giulia
            assert "PII" in giulia
            assert "open" in marco and "X DM" in marco
            assert "FB comment" in anna and " 1h " in anna
            assert "resolved" in luca and "FB message" in luca
            assert "FB visitor post" in sara and "PII" in sara

    async def test_status_colours_are_red_yellow_green(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            queue = desk_app.screen.query_one(ConversationList)
            colours = {}
            for y in range(6):
                segment = next(iter(queue.render_line(y)))
                status = queue.render_line(y).text.split()[1]
                colours[status] = segment.style.color.name if segment.style else None
            assert colours == {"new": "red", "open": "yellow", "resolved": "green"}

    async def test_preview_masks_personal_data(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            giulia = queue_lines(desk_app)[0]
            assert "+39 *** *** **" in giulia  # masked, cut at the row's width
            assert "347" not in giulia

    async def test_status_filter_cycles_new_open_resolved(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("s")
            await settle(pilot)
            assert customers(desk_app) == ["Giulia", "Hostile", "Anna"]
            assert "status new" in filter_bar(desk_app)
            await pilot.press("s")
            await settle(pilot)
            assert customers(desk_app) == ["Marco", "Sara"]
            await pilot.press("s")
            await settle(pilot)
            assert customers(desk_app) == ["Luca"]

    async def test_channel_and_account_filters(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("c")  # the first channel: FB comment
            await settle(pilot)
            assert customers(desk_app) == ["Anna"]
            assert "channel FB comment" in filter_bar(desk_app)
            await pilot.press("x", "a")  # the first account: brand-facebook
            await settle(pilot)
            assert customers(desk_app) == ["Anna", "Luca", "Sara"]

    async def test_personal_data_filter(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("p")
            await settle(pilot)
            assert customers(desk_app) == ["Giulia", "Sara"]

    async def test_mine_shows_only_what_is_assigned_to_me(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        from socialdesk.desk.triage import assign

        assign(desk_store, conversation_of(desk_store, "pacco").id or 0, "AB", "AB",
               now=lambda: NOW)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("m")
            await settle(pilot)
            assert customers(desk_app) == ["Anna"]
            assert " AB " in queue_lines(desk_app)[0]

    async def test_w_cycles_everyones_unassigned_and_each_assignee(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        from socialdesk.desk.triage import assign

        assign(desk_store, conversation_of(desk_store, "pacco").id or 0, "LB", "AB",
               now=lambda: NOW)
        assign(desk_store, conversation_of(desk_store, "refund").id or 0, "AB", "AB",
               now=lambda: NOW)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("w")
            await settle(pilot)
            assert customers(desk_app) == ["Giulia", "Hostile", "Luca", "Sara"]
            assert filter_bar(desk_app).startswith("4 conversations")
            assert "· unassigned ·" in filter_bar(desk_app)
            await pilot.press("w")
            await settle(pilot)
            assert customers(desk_app) == ["Marco"] and "· mine ·" in filter_bar(desk_app)
            await pilot.press("w")
            await settle(pilot)
            assert customers(desk_app) == ["Anna"]
            assert "· assigned to LB ·" in filter_bar(desk_app)
            await pilot.press("m")  # from a colleague's straight to mine
            await settle(pilot)
            assert customers(desk_app) == ["Marco"]
            await pilot.press("m", "w", "w", "w", "w")
            await settle(pilot)
            assert len(customers(desk_app)) == 6 and "no filter" in filter_bar(desk_app)

    async def test_waiting_order_puts_the_longest_waiting_unresolved_first(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("o")
            await settle(pilot)
            assert customers(desk_app) == ["Sara", "Anna", "Marco", "Hostile", "Giulia"]
            assert "longest waiting first" in filter_bar(desk_app)

    async def test_search_finds_words_without_accents(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("slash")
            await settle(pilot)
            await pilot.press(*"e arrivato")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert customers(desk_app) == ["Anna"]  # "è arrivato"
            assert "search" in filter_bar(desk_app)
            await pilot.press("x")
            await settle(pilot)
            assert len(customers(desk_app)) == 6

    async def test_a_search_past_its_match_limit_says_so_on_the_filter_line(
        self, desk_app: DeskApp, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for module in ("socialdesk.store.queries.search", "socialdesk.tui.screens.queue_screen"):
            monkeypatch.setattr(f"{module}.SEARCH_MATCH_LIMIT", 2)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("slash", *"private", "enter")  # our 3 answers say "private"
            await settle(pilot)
            assert customers(desk_app) == ["Luca", "Sara"]
            assert filter_bar(desk_app).startswith("2 conversations in the newest 2 matches ·")
            await pilot.press("x", "slash", *"pacco", "enter")
            await settle(pilot)
            assert filter_bar(desk_app).startswith("1 conversation ·")

    async def test_new_conversation_appears_without_restart(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            add_conversation(desk_store, "Newcomer", "hello, anyone there?",
                             NOW + timedelta(minutes=1))
            desk_app.check_for_changes()
            await settle(pilot)
            assert customers(desk_app)[0] == "Newcomer"
            assert filter_bar(desk_app).startswith("7 conversations")

    async def test_a_queue_that_outgrows_the_screen_gets_its_scrollbar(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        """The list's height changes without a layout unless the scrollbar comes or goes."""
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            queue = desk_app.screen.query_one(ConversationList)
            assert not queue.show_vertical_scrollbar
            for number in range(40):
                add_conversation(desk_store, f"Bulk {number}", f"message {number}",
                                 NOW + timedelta(minutes=1 + number))
            desk_app.check_for_changes()
            await settle(pilot)
            assert queue.show_vertical_scrollbar
            assert queue.vertical_scrollbar.region.height == queue.region.height
            assert not queue.show_horizontal_scrollbar, "rows are cut to width, never scrolled"
            await pilot.press("end")
            await settle(pilot)
            assert queue.cursor == 45 and "Sara" in queue_lines(desk_app)[-1]

    async def test_enter_opens_the_conversation_under_the_cursor(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("down", "down", "enter")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            assert "Marco Bianchi" in screen_text(desk_app)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(desk_app.screen, InboxScreen)


class TestLongQueue:
    async def test_rows_are_read_a_page_at_a_time_as_the_cursor_moves(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        for number in range(250):
            add_conversation(desk_store, f"Bulk {number}", f"message {number}",
                             NOW - timedelta(days=2, minutes=number))
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            queue = desk_app.screen.query_one(ConversationList)
            assert queue.row_count == 100 and not queue.complete
            for _ in range(5):
                await pilot.press("pagedown")
                await settle(pilot)
            assert queue.cursor > 100
            assert queue.row_count == 200
            row = queue.current
            assert row is not None
            assert any(f"message {queue.cursor - 6}" in line for line in queue_lines(desk_app))


class TestConversation:
    async def open(self, app: DeskApp, pilot: object, downs: int) -> ConversationScreen:
        await pilot.press(*(["down"] * downs), "enter")  # type: ignore[attr-defined]
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        return app.screen

    async def test_thread_tells_public_from_private_and_direction(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await self.open(desk_app, pilot, 2)  # Marco: X DM, answered
            bubbles = list(screen.query(MessageBubble))
            assert [b.border_title for b in bubbles] == ["PRIVATE · only the customer and us"] * 2
            texts = [widget_text(b.content) for b in bubbles]
            assert "CUSTOMER → us" in texts[0] and "us → CUSTOMER" in texts[1]
            await pilot.press("escape", "up", "up", "enter")
            await settle(pilot)
            public = list(desk_app.screen.query(MessageBubble))
            assert public[0].border_title == "PUBLIC · everyone can read this"
            assert public[0].has_class("public") and not public[0].has_class("private")

    async def test_customer_card_shows_handles_conversations_notes_and_data_types(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await self.open(desk_app, pilot, 2)
            card = widget_text(desk_app.screen.query_one("#card-body").content)
            assert "X: @marcob" in card
            assert "X DM open" in card
            assert "LB" in card and "Refund approved by finance" in card
            await pilot.press("escape", "home", "enter")
            await settle(pilot)
            card = widget_text(desk_app.screen.query_one("#card-body").content)
            assert "PHONE" in card

    async def test_status_keys_set_new_open_resolved(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await self.open(desk_app, pilot, 0)
            await pilot.press("3")
            await settle(pilot)
            assert conversation_of(desk_store, "call me").status == "resolved"
            assert "RESOLVED" in widget_text(screen.query_one("#summary").content)
            await pilot.press("2")
            await settle(pilot)
            assert conversation_of(desk_store, "call me").status == "open"
            await pilot.press("1")
            await settle(pilot)
            assert conversation_of(desk_store, "call me").status == "new"
            conversation_id = str(conversation_of(desk_store, "call me").id)
            assert audit_actions(desk_store) == [("AB", "set_status", conversation_id)] * 3
            await pilot.press("escape")
            await settle(pilot)
            assert "new" in queue_lines(desk_app)[0]

    async def test_assign_to_me_and_back(self, desk_app: DeskApp, desk_store: Engine) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await self.open(desk_app, pilot, 0)
            await pilot.press("i")
            await settle(pilot)
            assert conversation_of(desk_store, "call me").assignee == "AB"
            assert "assigned to AB" in widget_text(screen.query_one("#summary").content)
            await pilot.press("u")
            await settle(pilot)
            assert conversation_of(desk_store, "call me").assignee is None

    async def test_note_is_saved_signed_and_shown_on_the_card(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await self.open(desk_app, pilot, 0)
            await pilot.press("n")
            await settle(pilot)
            assert isinstance(desk_app.screen, NoteModal)
            await pilot.press(*"called back", "enter")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            with Session(desk_store) as session:
                note = session.exec(select(Note).where(Note.text == "called back")).one()
            assert note.initials == "AB"
            card = widget_text(desk_app.screen.query_one("#card-body").content)
            assert "called back" in card and "AB" in card

    async def test_escape_in_the_note_saves_nothing(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await self.open(desk_app, pilot, 0)
            await pilot.press("n", *"draft", "escape", "y")  # y: drop the typed note
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            with Session(desk_store) as session:
                assert session.exec(select(Note).where(Note.text == "draft")).first() is None

    async def test_reveal_shows_personal_data_and_is_audited(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await self.open(desk_app, pilot, 0)
            before = widget_text(screen.query_one(MessageBubble).content)
            assert "+39 *** *** **67" in before and "347 123 4567" not in before
            await pilot.press("v")
            await settle(pilot)
            after = widget_text(desk_app.screen.query_one(MessageBubble).content)
            assert "+39 347 123 4567" in after
            assert [a for _, a, _ in audit_actions(desk_store)] == ["reveal"]

    async def test_v_pressed_again_while_the_reveal_is_on_its_way_reveals_once(
        self, desk_app: DeskApp, desk_store: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A double `v` (a key repeat, an impatient operator) used to queue a second reveal
        behind the first: two audit entries for one look."""
        from socialdesk.tui.screens import triage_keys

        both_pressed = threading.Event()

        def slow_reveal(*args: Any, **kwargs: Any) -> Any:
            both_pressed.wait(timeout=10)
            return triage_keys_reveal(*args, **kwargs)

        triage_keys_reveal = triage_keys.reveal
        monkeypatch.setattr(triage_keys, "reveal", slow_reveal)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await self.open(desk_app, pilot, 0)
            await pilot.press("v", "v")
            both_pressed.set()
            await settle(pilot)
            assert "+39 347 123 4567" in widget_text(screen.query_one(MessageBubble).content)
            assert [a for _, a, _ in audit_actions(desk_store)] == ["reveal"]
            await pilot.press("v")
            await settle(pilot)
            assert "347 123 4567" not in widget_text(screen.query_one(MessageBubble).content)


    async def test_each_enter_shows_that_conversation_alone_and_masked_again(
        self, desk_app: DeskApp
    ) -> None:
        """The desk reuses one conversation screen: nothing of the last one may stay."""
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await self.open(desk_app, pilot, 0)  # Giulia's phone, revealed
            await pilot.press("v")
            await settle(pilot)
            assert "+39 347 123 4567" in widget_text(screen.query_one(MessageBubble).content)
            await pilot.press("escape", "down", "down", "enter")
            await settle(pilot)
            marco = desk_app.screen
            assert isinstance(marco, ConversationScreen)
            texts = " ".join(widget_text(b.content) for b in marco.query(MessageBubble))
            assert "Giulia" not in texts and "347" not in texts
            assert "X DM" in widget_text(marco.query_one("#summary", Static).content)
            assert "REVEALED" not in widget_text(marco.query_one("#summary", Static).content)
            await pilot.press("escape", "up", "up", "enter")
            await settle(pilot)
            again = widget_text(desk_app.screen.query_one(MessageBubble).content)
            assert "+39 *** *** **67" in again and "347 123 4567" not in again


    async def test_the_screen_is_built_before_the_first_enter_and_shows_the_chosen_row(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await settle(pilot)
            assert desk_app.is_screen_installed(CONVERSATION_SCREEN)
            built = desk_app.get_screen(CONVERSATION_SCREEN)
            assert built.is_running  # composed unseen on Giulia's row: Enter only fills it
            await pilot.press("down", "down", "enter")  # Marco
            await settle(pilot)
            assert desk_app.screen is built
            summary = widget_text(built.query_one("#summary", Static).content)
            assert "X DM" in summary and "X mention" not in summary
            texts = " ".join(widget_text(b.content) for b in built.query(MessageBubble))
            assert "347" not in texts


class TestSafety:
    async def test_customer_markup_and_escapes_are_shown_as_text(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=(160, 30)) as pilot:
            await settle(pilot)
            hostile = queue_lines(desk_app)[1]
            assert "[bold]free[/bold] [link=https://evil.example]click[/link]" in hostile
            assert "\x1b" not in hostile and "␛[31mred" in hostile
            await pilot.press("down", "enter")
            await settle(pilot)
            bubble = desk_app.screen.query_one(MessageBubble)
            strips = [bubble.render_line(y) for y in range(bubble.size.height)]
            drawn = "".join(strip.text for strip in strips)
            assert "[bold]free[/bold]" in drawn and "[link=https://evil.example]" in drawn
            assert "\x1b" not in drawn
            assert all(segment.style is None or segment.style.link is None
                       for strip in strips for segment in strip)


class TestHelpAndPalette:
    async def test_question_mark_lists_every_key_of_the_screen(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("question_mark")
            await settle(pilot)
            assert isinstance(desk_app.screen, HelpScreen)
            text = screen_text(desk_app)
            for binding in InboxScreen.BINDINGS:
                assert binding.tooltip and binding.tooltip in text  # type: ignore[union-attr]
            assert "Open the conversation under the cursor" in text
            assert "Bottom of the queue" in text
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(desk_app.screen, InboxScreen)

    async def test_help_on_the_conversation_lists_its_keys(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=(140, 60)) as pilot:
            await settle(pilot)
            await pilot.press("enter", "question_mark")
            await settle(pilot)
            assert isinstance(desk_app.screen, HelpScreen)
            text = screen_text(desk_app)
            for binding in ConversationScreen.BINDINGS:
                assert binding.tooltip and binding.tooltip[:40] in " ".join(text.split())  # type: ignore[union-attr]

    async def test_palette_lists_the_screen_keys(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            titles = [command.title for command in desk_app.get_system_commands(desk_app.screen)]
            assert "Status (s)" in titles and "Search (/)" in titles and "Late (l)" in titles
            command = next(c for c in desk_app.get_system_commands(desk_app.screen)
                           if c.title == "Personal data (p)")
            command.callback()
            await pilot.pause()
            assert customers(desk_app) == ["Giulia", "Sara"]

    @pytest.mark.parametrize("screen_class", [InboxScreen, ConversationScreen])
    async def test_palette_lists_every_binding_of_the_screen(
        self, desk_app: DeskApp, screen_class: type
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            if screen_class is ConversationScreen:
                await pilot.press("enter")
                await settle(pilot)
            assert isinstance(desk_app.screen, screen_class)
            titles = {command.title for command in desk_app.get_system_commands(desk_app.screen)}
            expected = {f"{binding.description} ({desk_app.get_key_display(binding)})"
                        for binding in screen_class.BINDINGS}  # shown in the footer or not
            assert len(expected) == len(screen_class.BINDINGS)
            assert expected <= titles, sorted(expected - titles)

    def test_every_binding_has_an_id_and_a_tooltip(self) -> None:
        from socialdesk.tui.app import binding_owners

        for owner in binding_owners():
            for binding in owner.BINDINGS:
                assert binding.id and binding.tooltip, (owner, binding)  # type: ignore[union-attr]


class TestDashboard:
    async def test_dashboard_shows_volumes_and_first_response_times(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(desk_app.screen, DashboardScreen)
            await settle(pilot)  # counted off the keyboard's thread
            text = screen_text(desk_app)
            assert "3 conversations answered" in text and "median 3 min" in text
            labels = [str(label.content) for label in desk_app.screen.query("Label")]
            assert "X mention: 2 inbound messages in 14 days · ▁ 0 to █ 2 a day" in labels
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(desk_app.screen, InboxScreen)


    async def test_the_dashboard_opens_at_once_and_fills_in_when_counted(
        self, desk_app: DeskApp, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from socialdesk.tui import workers as dashboard

        counted = threading.Event()
        real = dashboard.dashboard_figures

        def slow(*args: Any) -> Any:
            counted.wait(10)
            return real(*args)

        monkeypatch.setattr(dashboard, "dashboard_figures", slow)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("d")
            assert "Counting the last 14 days" in screen_text(desk_app)
            counted.set()
            await settle(pilot)
            assert "3 conversations answered" in screen_text(desk_app)


    async def test_the_dashboard_counts_again_when_messages_arrive(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("d")
            await settle(pilot)
            await settle(pilot)
            assert "X mention: 2 inbound messages in 14 days" in screen_text(desk_app)
            add_conversation(desk_store, "Newcomer", "hello, anyone there?",
                             NOW + timedelta(minutes=1))
            desk_app.check_for_changes()
            await settle(pilot)
            text = screen_text(desk_app)
            assert "X mention: 3 inbound messages in 14 days" in text
            assert text.count("X mention:") == 1


class TestAnswering:
    """Answers go through `socialdesk.desk.answers` into the outbox; the TUI never sends itself."""

    async def test_reply_says_public_before_sending_and_queues_on_the_same_channel(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        from socialdesk.store.models import OutboxAction
        from socialdesk.tui.widgets.composer import ComposerModal

        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("enter", "r")
            await settle(pilot)
            assert isinstance(desk_app.screen, ComposerModal)
            title = str(desk_app.screen.query_one("#destination").content)
            assert title.startswith("PUBLIC reply on X mention to @giulia_r")
            await pilot.press(*"we have written to you", "ctrl+s")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            with Session(desk_store) as session:
                action = session.exec(select(OutboxAction)).one()
            assert (action.kind, action.text, action.requested_by) == (
                "reply", "we have written to you", "AB")
            assert action.conversation_id == conversation_of(desk_store, "call me").id

    async def test_private_message_names_the_private_channel(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        from socialdesk.store.models import OutboxAction

        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("enter", "p")
            await settle(pilot)
            title = str(desk_app.screen.query_one("#destination").content)
            assert title == "PRIVATE message: X DM to @giulia_r"
            await pilot.press(*"hello", "escape")
            await settle(pilot)
            with Session(desk_store) as session:
                assert session.exec(select(OutboxAction)).first() is None

    async def test_saved_reply_closest_to_the_message_comes_first_with_name_filled(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        from socialdesk.store.models import OutboxAction
        from socialdesk.tui.context import SavedReply

        desk_app.desk.saved_replies = [
            SavedReply("password", "en", "Hi {name}, reset your password from the app."),
            SavedReply("late-order", "en", "Hi {name}, sorry your order hasn't arrived yet."),
        ]
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("enter", "p", "tab")
            await settle(pilot)
            options = desk_app.screen.query_one("#saved")
            first = str(options.get_option_at_index(0).prompt)  # type: ignore[attr-defined]
            assert first.startswith("late-order (en): Hi Giulia Rossi, sorry your order")
            await pilot.press("enter", "ctrl+s")
            await settle(pilot)
            # "order" is account data and Giulia is not verified: the desk asks first.
            assert "not verified" in screen_text(desk_app)
            await pilot.press("y")
            await settle(pilot)
            with Session(desk_store) as session:
                action = session.exec(select(OutboxAction)).one()
            assert action.text == "Hi Giulia Rossi, sorry your order hasn't arrived yet."

    async def test_saved_replies_are_ranked_for_an_italian_message(
        self, desk_app: DeskApp
    ) -> None:
        from socialdesk.tui.context import SavedReply

        desk_app.desk.saved_replies = [
            SavedReply("password", "en", "Hi {name}, reset your password from the app."),
            SavedReply("password-it", "it", "Ciao {name}, puoi cambiare la password dall'app."),
            SavedReply("reso-it", "it", "Ciao {name}, ci spiace per il pacco arrivato rotto: "
                                        "per il reso ti mandiamo un'etichetta."),
            SavedReply("damaged", "en", "Hi {name}, sorry the parcel arrived damaged."),
        ]
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            # Anna: "Il pacco è arrivato rotto, come faccio il reso?"
            await pilot.press(*(["down"] * customers(desk_app).index("Anna")), "enter", "r")
            await settle(pilot)
            options = desk_app.screen.query_one("#saved")
            first = str(options.get_option_at_index(0).prompt)  # type: ignore[attr-defined]
            assert first.startswith("reso-it (it): Ciao Anna Verdi, ci spiace per il pacco")


class TestHealth:
    async def test_no_warning_while_every_account_is_healthy(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert "⚠" not in screen_text(desk_app)

    async def test_an_account_whose_token_expired_is_shown_above_the_queue(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        from socialdesk.store.models import Account

        with Session(desk_store) as session:
            account = session.exec(select(Account).where(Account.name == "brand-x")).one()
            account.health, account.health_reason = "unhealthy", "X rejected the credentials"
            session.add(account)
            session.commit()
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert "⚠ brand-x: X rejected the credentials" in screen_text(desk_app)
