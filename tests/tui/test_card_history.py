"""Conversation `o` (`conversation.history`): open the customer's other conversations from
the card, on every channel, and come back with Esc."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from socialdesk.store.models import Account, Conversation, Handle, Message
from socialdesk.tui.app import DeskApp, binding_ids
from socialdesk.tui.screens.modals import ChoiceModal, HelpScreen
from socialdesk.tui.screens.queue_screen import InboxScreen
from tests.tui.desk_fixture import NOW, settle, stored_spans
from tests.tui.screen_text import screen_text
from tests.tui.test_desk import SIZE, conversation_of
from tests.tui.test_desk_triage import choice_labels, open_row, showing


def add_to_contact(store: Engine, contact_id: int, platform: str, channel: str,
                   visibility: str, days_ago: int, text: str, pii: str | None = None) -> int:
    """One more conversation of an existing contact (with a handle on `platform`)."""
    at = NOW - timedelta(days=days_ago)
    with Session(store) as session:
        account = session.exec(select(Account).where(Account.platform == platform)).one()
        external = f"h{contact_id}{platform}"
        if session.exec(select(Handle).where(Handle.contact_id == contact_id,
                                             Handle.platform == platform)).first() is None:
            session.add(Handle(contact_id=contact_id, platform=platform,
                               external_user_id=external, username=f"{platform}.user"))
        conversation = Conversation(
            account_id=account.id or 0, channel=channel, visibility=visibility,
            thread_key=f"t{external}{days_ago}", contact_id=contact_id, status="resolved",
            opened_at=at, last_inbound_at=at, last_message_at=at, created_at=at, updated_at=at)
        session.add(conversation)
        session.flush()
        session.add(Message(account_id=account.id or 0, conversation_id=conversation.id or 0,
                            platform=platform, external_id=f"m{external}{days_ago}",
                            channel=channel, visibility=visibility, direction="inbound",
                            author_external_id=external, author_handle=f"{platform}.user",
                            text=text, created_at=at, ingested_at=at, has_pii=pii is not None,
                            pii_types=pii, pii_spans=stored_spans(text) if pii else None,
                            raw={}))
        session.commit()
        return conversation.id or 0


def marco_with_history(store: Engine) -> tuple[int, int, int]:
    """Marco's X DM, plus a Facebook Messenger chat (with a phone number) and an older X
    mention on the same contact: (the DM, the Messenger chat, the mention)."""
    dm = conversation_of(store, "refund for booking")
    assert dm.contact_id is not None
    messenger = add_to_contact(store, dm.contact_id, "facebook", "messenger", "private", 2,
                               "call me back on +39 347 765 4321 please", "PHONE")
    mention = add_to_contact(store, dm.contact_id, "x", "mention", "public", 9,
                             "@brand where is my parcel")
    return dm.id or 0, messenger, mention


class TestHistory:
    async def test_o_lists_the_other_conversations_on_both_platforms_masked(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        dm, messenger, mention = marco_with_history(desk_store)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 2)  # Marco's X DM
            await pilot.press("o")
            await settle(pilot)
            labels = choice_labels(desk_app)
            assert len(labels) == 2  # the open conversation is not offered
            assert labels[0].startswith(f"#{messenger} FB message resolved ")
            assert labels[1].startswith(f"#{mention} X mention resolved ")
            assert "where is my parcel" in labels[1]
            assert "+39 ***" in labels[0] and "765 4321" not in labels[0]
            assert not any(f"#{dm} " in label for label in labels)

    async def test_picking_one_opens_it_and_escape_comes_back(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        dm, messenger, _mention = marco_with_history(desk_store)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 2)
            await pilot.press("o", "enter")
            await settle(pilot)
            assert showing(desk_app) == messenger
            assert "FB message" in screen_text(desk_app)
            await pilot.press("escape")
            await settle(pilot)
            assert showing(desk_app) == dm
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(desk_app.screen, InboxScreen)

    async def test_typing_narrows_and_escape_in_the_list_changes_nothing(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        dm, _messenger, mention = marco_with_history(desk_store)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 2)
            await pilot.press("o", "escape")
            await settle(pilot)
            assert showing(desk_app) == dm
            await pilot.press("o", *"parcel")
            await settle(pilot)
            assert len(choice_labels(desk_app)) == 1
            await pilot.press("enter")
            await settle(pilot)
            assert showing(desk_app) == mention

    async def test_without_other_conversations_a_notice_says_so(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await open_row(desk_app, pilot, 0)  # Giulia: one conversation only
            await pilot.press("o")
            await settle(pilot)
            assert desk_app.screen is screen
            assert not isinstance(desk_app.screen, ChoiceModal)
            messages = [n.message for n in desk_app._notifications]
            assert "This customer has no other conversation" in messages

    async def test_help_and_palette_list_the_key(self, desk_app: DeskApp) -> None:
        assert "conversation.history" in binding_ids()
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await open_row(desk_app, pilot, 0)
            commands = [command.title for command in desk_app.get_system_commands(screen)]
            assert "History (o)" in commands
            await pilot.press("question_mark")
            await settle(pilot)
            assert isinstance(desk_app.screen, HelpScreen)
            assert any(line.strip().startswith("o ") and "History" in line
                       for line in screen_text(desk_app).splitlines())
