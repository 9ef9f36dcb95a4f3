"""The issue-5 keys added after the first desk: hide, merge, assign to, SLA, verification,
the privacy redirect, End, and the keymap. Each test presses the keys and then reads both
the screen and the store."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from socialdesk.config import settings_from_mapping
from socialdesk.service.sla import overdue_conversations
from socialdesk.store.models import (
    Account,
    AuditEntry,
    Contact,
    Conversation,
    Handle,
    Message,
    OutboxAction,
    PrivacyExposure,
)
from socialdesk.store.queries.queue import InboxFilter, inbox_count, inbox_page
from socialdesk.tui.app import DeskApp, binding_ids, make_app
from socialdesk.tui.context import Desk, Operator
from socialdesk.tui.launch import desk_from_settings
from socialdesk.tui.screens.conversation_screen import ConversationScreen, MessageBubble
from socialdesk.tui.screens.dashboard_screen import DashboardScreen
from socialdesk.tui.screens.modals import ChoiceModal, ConfirmModal, HelpScreen
from socialdesk.tui.screens.queue_screen import InboxScreen
from socialdesk.tui.widgets.composer import ComposerModal
from socialdesk.tui.widgets.queue_list import ConversationList
from tests.tui.desk_fixture import NOW, add_conversation, settle
from tests.tui.screen_text import filter_bar, queue_lines, screen_text, widget_text
from tests.tui.test_desk import SIZE, audit_actions, conversation_of, customers


def card_text(app: DeskApp) -> str:
    return widget_text(app.screen.query_one("#card-body").content)


def summary_text(app: DeskApp) -> str:
    return widget_text(app.screen.query_one("#summary").content)


def choice_labels(app: DeskApp) -> list[str]:
    assert isinstance(app.screen, ChoiceModal)
    return [choice.label for choice in app.screen.choices]


def outbox(store: Engine) -> list[OutboxAction]:
    with Session(store) as session:
        return list(session.exec(select(OutboxAction).order_by(col(OutboxAction.id))))


async def open_row(app: DeskApp, pilot: object, downs: int) -> ConversationScreen:
    await pilot.press(*(["down"] * downs), "enter")  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(app.screen, ConversationScreen)
    return app.screen


def showing(app: DeskApp) -> int:
    """The conversation on screen (which must be a conversation screen)."""
    screen = app.screen
    assert isinstance(screen, ConversationScreen)
    return screen.conversation_id


def set_due(store: Engine, customer_text: str, started_minutes_ago: int, due_in: int) -> int:
    """Give a conversation an SLA clock, as `sla.set_due_times` does after a sync."""
    conversation_id = conversation_of(store, customer_text).id or 0
    with Session(store) as session:
        session.exec(update(Conversation).where(col(Conversation.id) == conversation_id)  # type: ignore[call-overload]
                     .values(sla_started_at=NOW - timedelta(minutes=started_minutes_ago),
                             first_response_due_at=NOW + timedelta(minutes=due_in)))
        session.commit()
    return conversation_id


class TestHide:
    async def test_h_hides_the_public_message_then_unhides_it(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 0)  # Giulia: public X mention
            await pilot.press("h")
            await settle(pilot)
            (action,) = outbox(desk_store)
            assert (action.kind, action.state, action.requested_by) == ("hide", "pending", "AB")
            assert action.target_message_id == conversation_message(desk_store, "call me")
            header = widget_text(desk_app.screen.query_one(MessageBubble).content)
            assert "hide pending" in header
            await pilot.press("h")
            await settle(pilot)
            assert [a.kind for a in outbox(desk_store)] == ["hide", "unhide"]
            assert "unhide pending" in widget_text(desk_app.screen.query_one(MessageBubble).content)
            assert [a for _, a, _ in audit_actions(desk_store)] == ["hide", "unhide"]

    async def test_a_sent_hide_reads_hidden_on_the_platform(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 0)
            await pilot.press("h")
            await settle(pilot)
            with Session(desk_store) as session:
                session.exec(update(OutboxAction).values(state="sent"))  # type: ignore[call-overload]
                session.commit()
            desk_app.screen.refresh_view()  # type: ignore[attr-defined]
            await pilot.pause()
            header = widget_text(desk_app.screen.query_one(MessageBubble).content)
            assert "HIDDEN on the platform" in header

    async def test_a_private_conversation_has_nothing_to_hide(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 2)  # Marco: X DM
            await pilot.press("h")
            await settle(pilot)
            assert outbox(desk_store) == []
            assert isinstance(desk_app.screen, ConversationScreen)


def conversation_message(store: Engine, text: str) -> int:
    with Session(store) as session:
        message = session.exec(select(Message).where(
            col(Message.text).contains(text))).one()
        return message.id or 0


def add_facebook_marco(store: Engine) -> int:
    """The Marco of the X DM, as a separate Facebook contact with a Messenger conversation."""
    at = NOW - timedelta(days=3)
    with Session(store) as session:
        account = session.exec(select(Account).where(Account.platform == "facebook")).one()
        contact = Contact(display_name="Marco Bianchi", origin="facebook:77", created_at=at)
        session.add(contact)
        session.flush()
        session.add(Handle(contact_id=contact.id or 0, platform="facebook",
                           external_user_id="77", username="marco.bianchi.77"))
        conversation = Conversation(
            account_id=account.id or 0, channel="messenger", visibility="private",
            thread_key="t77", contact_id=contact.id, status="resolved", opened_at=at,
            last_inbound_at=at, last_message_at=at, created_at=at, updated_at=at)
        session.add(conversation)
        session.flush()
        session.add(Message(account_id=account.id or 0, conversation_id=conversation.id or 0,
                            platform="facebook", external_id="m77", channel="messenger",
                            visibility="private", direction="inbound", author_external_id="77",
                            author_handle="marco.bianchi.77", author_name="Marco Bianchi",
                            text="old question about my booking", created_at=at, ingested_at=at,
                            raw={}))
        session.commit()
        return contact.id or 0


class TestMerge:
    async def test_m_offers_the_similar_contact_and_the_card_then_shows_both_platforms(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        facebook_marco = add_facebook_marco(desk_store)
        marco = conversation_of(desk_store, "refund for booking").contact_id
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 2)  # Marco's X DM
            assert "Facebook" not in card_text(desk_app)
            await pilot.press("m")
            await settle(pilot)
            labels = choice_labels(desk_app)
            assert labels[0] == "Marco Bianchi (Facebook @marco.bianchi.77)"
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConfirmModal)
            await pilot.press("y")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            card = card_text(desk_app)
            assert "X: @marcob" in card and "Facebook: @marco.bianchi.77" in card
            assert "X DM open" in card and "FB message resolved" in card
        with Session(desk_store) as session:
            merged = session.get(Contact, facebook_marco)
            assert merged is not None and merged.merged_into_id == marco
        assert ("AB", "merge_contacts", str(marco)) in audit_actions(desk_store)

    async def test_typing_searches_other_contacts_and_no_leaves_both_apart(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 2)
            await pilot.press("m", *"sarag")
            await settle(pilot)
            assert choice_labels(desk_app) == ["Sara Gialli (Facebook @sarag)"]
            await pilot.press("enter", "n")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
        with Session(desk_store) as session:
            assert session.exec(select(Contact).where(
                col(Contact.merged_into_id).is_not(None))).first() is None
        assert audit_actions(desk_store) == []


class TestAssignTo:
    async def test_a_assigns_to_typed_initials(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 0)
            await pilot.press("a", *"LB", "enter")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            assert "assigned to LB" in summary_text(desk_app)
        assert conversation_of(desk_store, "call me").assignee == "LB"
        conversation_id = str(conversation_of(desk_store, "call me").id)
        assert audit_actions(desk_store) == [("AB", "assign", conversation_id)]

    async def test_the_modal_offers_me_and_colleagues_already_assigned(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        from socialdesk.desk.triage import assign

        assign(desk_store, conversation_of(desk_store, "pacco").id or 0, "GV", "GV",
               now=lambda: NOW)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 0)
            await pilot.press("a")
            await settle(pilot)
            assert choice_labels(desk_app) == ["AB (you)", "GV"]
            await pilot.press("G", "enter")
            await settle(pilot)
        assert conversation_of(desk_store, "call me").assignee == "GV"

    async def test_invalid_initials_change_nothing(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 0)
            await pilot.press("a", *"not initials", "enter")
            await settle(pilot)
        assert conversation_of(desk_store, "call me").assignee is None


class TestSla:
    async def test_l_shows_only_conversations_past_the_sla_with_how_late(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        set_due(desk_store, "call me", 5, -2)  # Giulia: due 2 minutes ago, unanswered
        set_due(desk_store, "pacco", 90, 30)  # Anna: due in 30 minutes
        set_due(desk_store, "IBAN", 1500, -1000)  # Sara: past due, but answered after start
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            lines = {customer: line for customer, line in zip(customers(desk_app),
                                                             queue_lines(desk_app), strict=True)}
            assert "    +2m " in lines["Giulia"]
            assert " in 30m " in lines["Anna"]
            assert " +" not in lines["Sara"]  # the SLA was met; she waits for nothing
            await pilot.press("l")
            await settle(pilot)
            assert customers(desk_app) == ["Giulia"]
            assert "past the SLA" in filter_bar(desk_app)
            await pilot.press("l")
            await settle(pilot)
            assert len(customers(desk_app)) == 6
            await pilot.press("enter")
            await settle(pilot)
            assert "first response overdue by 2m" in summary_text(desk_app)

    def test_the_filter_follows_the_sla_module_rule(self, desk_store: Engine) -> None:
        for text, started, due in (("call me", 5, -2), ("pacco", 90, 30), ("IBAN", 1500, -1000),
                                   ("refund for", 40, -5), ("all sorted", 300, -200)):
            set_due(desk_store, text, started, due)
        expected = sorted(c.id for c in overdue_conversations(desk_store, NOW))
        shown = inbox_page(desk_store, InboxFilter(overdue=True), None, 100, now=NOW)
        assert sorted(row.id for row in shown) == expected
        assert inbox_count(desk_store, InboxFilter(overdue=True), NOW) == len(expected) == 1

    async def test_dashboard_counts_conversations_past_the_sla(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        set_due(desk_store, "call me", 5, -2)
        set_due(desk_store, "pacco", 90, -1)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(desk_app.screen, DashboardScreen)
            await settle(pilot)
            text = screen_text(desk_app)
            assert "Past the first-response SLA now: 2 open conversations" in text
            assert "median 3 min, 90% within 3 min" in text


class TestIdentity:
    async def test_c_marks_the_customer_verified_and_the_card_says_by_whom_and_how(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 0)
            assert "Identity NOT verified" in card_text(desk_app)
            await pilot.press("c", *"call", "enter")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            assert "Identity verified by AB 30 Nov" in card_text(desk_app)
            assert "(call_back)" in card_text(desk_app)
        contact_id = conversation_of(desk_store, "call me").contact_id
        with Session(desk_store) as session:
            contact = session.get(Contact, contact_id)
            assert contact is not None
            assert (contact.verified_by, contact.verified_method) == ("AB", "call_back")
        assert audit_actions(desk_store) == [("AB", "verify_contact", str(contact_id))]

    async def test_private_reply_about_account_data_warns_while_unverified(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 0)
            await pilot.press("p", *"your refund is on its way", "ctrl+s")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConfirmModal)
            assert "not verified" in screen_text(desk_app)
            await pilot.press("n")
            await settle(pilot)
            assert outbox(desk_store) == []
            await pilot.press("c", "enter")  # verified (the first method)
            await settle(pilot)
            await pilot.press("p", *"your refund is on its way", "ctrl+s")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            (action,) = outbox(desk_store)
            assert action.kind == "direct_message"

    async def test_yes_sends_the_private_reply_anyway(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 0)
            await pilot.press("p", *"your refund is on its way", "ctrl+s", "y")
            await settle(pilot)
            assert [a.text for a in outbox(desk_store)] == ["your refund is on its way"]


def suggest_redirect(store: Engine) -> int:
    """A suggest-mode exposure on Giulia's public mention, as the guard records it."""
    conversation = conversation_of(store, "call me")
    with Session(store) as session:
        exposure = PrivacyExposure(
            conversation_id=conversation.id or 0,
            message_id=conversation_message(store, "call me"), types="PHONE", mode="suggest",
            outcome="suggested", language="en",
            plan=[{"purpose": "private_message", "kind": "direct_message",
                   "recipient_id": "1", "text": "We are writing to you privately",
                   "target_external_id": None, "target_channel": None, "options": {}}],
            detected_at=NOW)
        session.add(exposure)
        session.commit()
        return exposure.id or 0


class TestPrivacyRedirect:
    async def test_g_carries_out_the_suggested_redirect(self, desk_store: Engine) -> None:
        exposure_id = suggest_redirect(desk_store)
        app = make_app(Desk(engine=desk_store, operator=Operator("AB"), clock=lambda: NOW,
                            poll_seconds=0, settings=settings_from_mapping({}, "test")))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(app, pilot, 0)
            assert "PHONE in public: redirect suggested (g)" in summary_text(app)
            assert "in public #" in card_text(app) and "redirect suggested" in card_text(app)
            await pilot.press("g")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmModal)
            assert "private message" in screen_text(app)
            await pilot.press("y")
            await settle(pilot)
            await settle(pilot)
            assert "redirect suggested" not in summary_text(app)
        with Session(desk_store) as session:
            exposure = session.get(PrivacyExposure, exposure_id)
            assert exposure is not None
            assert exposure.outcome != "suggested" and exposure.resolved_by == "AB"
            assert session.exec(select(AuditEntry).where(
                AuditEntry.action == "privacy_guard.redirect", AuditEntry.actor == "AB")).one()

    async def test_without_the_config_the_redirect_is_refused_and_left_waiting(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        exposure_id = suggest_redirect(desk_store)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 0)
            await pilot.press("g")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
        with Session(desk_store) as session:
            exposure = session.get(PrivacyExposure, exposure_id)
            assert exposure is not None and exposure.outcome == "suggested"


class TestEnd:
    async def test_end_jumps_to_the_last_row_of_a_long_queue(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        for number in range(250):
            add_conversation(desk_store, f"Bulk {number}", f"message {number}",
                             NOW - timedelta(days=2, minutes=number))
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            queue = desk_app.screen.query_one(ConversationList)
            assert filter_bar(desk_app).startswith("100+ conversations")
            await pilot.press("end")
            await settle(pilot)
            assert queue.cursor == 255 and queue.row_count == 256
            assert queue.vertical_scrollbar.window_virtual_size == 256  # sized without a layout
            assert queue.vertical_scrollbar.position == 256 - queue.scrollable_content_region.height
            assert "message 249" in queue_lines(desk_app)[-1]
            assert filter_bar(desk_app).startswith("256 conversations")
            await pilot.press("pageup")  # rows above the end are read backwards
            await settle(pilot)
            current = queue.current
            assert 200 < queue.cursor < 255
            assert current is not None and current.preview == f"message {queue.cursor - 6}"
            await pilot.press("home")
            await settle(pilot)
            assert queue.cursor == 0 and "Giulia" in queue_lines(desk_app)[0]

    async def test_rows_read_backwards_match_the_forward_order(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        for number in range(250):
            add_conversation(desk_store, f"Bulk {number}", f"message {number}",
                             NOW - timedelta(days=2, minutes=number))
        forward = [row.id for row in inbox_page(desk_store, InboxFilter(), None, 1000)]
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            queue = desk_app.screen.query_one(ConversationList)
            await pilot.press("end")
            await settle(pilot)
            pages = queue._pages
            assert pages is not None
            seen = [row.id for index in range(255, -1, -1)
                    if (row := pages.row(index)) is not None]
            assert seen[::-1] == forward

    async def test_end_in_a_short_queue(self, desk_app: DeskApp) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("end")
            await settle(pilot)
            queue = desk_app.screen.query_one(ConversationList)
            assert queue.cursor == 5 and customers(desk_app)[queue.cursor] == "Sara"


class TestKeymap:
    async def test_config_keymap_rebinds_keys(self, desk_store: Engine) -> None:
        settings = settings_from_mapping(
            {"tui": {"keymap": {"inbox.dashboard": "D", "conversation.reply": "R"}}}, "test")
        desk = desk_from_settings(settings, desk_store)
        desk.clock, desk.poll_seconds = (lambda: NOW), 0
        app = make_app(desk)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(app.screen, InboxScreen)
            await pilot.press("D")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            await pilot.press("escape", "enter", "r")
            await settle(pilot)
            assert isinstance(app.screen, ConversationScreen)
            await pilot.press("R")
            await settle(pilot)
            assert isinstance(app.screen, ComposerModal)
            await pilot.press("escape", "question_mark")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            assert any(line.strip().startswith("R ") and "Reply" in line
                       for line in screen_text(app).splitlines())

    async def test_unknown_binding_id_is_reported(self, desk_store: Engine) -> None:
        app = make_app(Desk(engine=desk_store, operator=Operator("AB"), clock=lambda: NOW,
                            poll_seconds=0, keymap={"inbox.nonsense": "z"}))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await settle(pilot)  # checked just after the first screen
            messages = [n.message for n in app._notifications]
            assert any("inbox.nonsense" in message for message in messages)

    def test_every_documented_id_exists(self) -> None:
        from pathlib import Path

        readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
        ids = binding_ids()
        assert {"queue.last", "inbox.overdue", "conversation.hide", "conversation.merge",
                "conversation.assign_to", "conversation.verify",
                "conversation.redirect"} <= ids
        for binding_id in ids:
            assert f"`{binding_id}`" in readme, binding_id
