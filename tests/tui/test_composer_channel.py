"""The composer names the exact private channel `send_private` will use, before sending:
a Messenger message, or Facebook's one private reply to the comment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from socialdesk.store.models import Account, Conversation, Message
from socialdesk.tui.app import DeskApp
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from socialdesk.tui.widgets.composer import ComposerModal
from tests.tui.desk_fixture import NOW, settle
from tests.tui.test_desk import SIZE, conversation_of, customers
from tests.tui.test_desk_triage import open_row, outbox


def add_messenger(store: Engine, hours_ago: float) -> int:
    """A Messenger conversation for Anna (the Facebook comment's author)."""
    at = NOW - timedelta(hours=hours_ago)
    comment = conversation_of(store, "Il pacco è arrivato rotto")
    with Session(store) as session:
        account = session.exec(select(Account).where(Account.platform == "facebook")).one()
        messenger = Conversation(
            account_id=account.id or 0, channel="messenger", visibility="private",
            thread_key="anna-messenger", contact_id=comment.contact_id, status="resolved",
            opened_at=at, last_inbound_at=at, last_message_at=at, created_at=at, updated_at=at,
        )
        session.add(messenger)
        session.flush()
        session.add(Message(
            account_id=account.id or 0, conversation_id=messenger.id or 0,
            platform="facebook", external_id="anna-m1", channel="messenger",
            visibility="private", direction="inbound", author_external_id="4",
            author_handle="anna.verdi", author_name="Anna Verdi", text="Ciao, ci sono?",
            created_at=at, ingested_at=at, raw={},
        ))
        session.commit()
        return messenger.id or 0


async def compose_privately_to_anna(app: DeskApp, pilot: object) -> str:
    """Open Anna's Facebook comment, press p; the composer's destination line."""
    await open_row(app, pilot, customers(app).index("Anna"))
    await pilot.press("p")  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(app.screen, ComposerModal)
    return str(app.screen.query_one("#destination").content)


async def test_comment_without_messenger_names_the_private_reply_and_queues_it(
    desk_app: DeskApp, desk_store: Engine
) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        title = await compose_privately_to_anna(desk_app, pilot)
        assert title.startswith("PRIVATE reply to @anna.verdi's FB comment: Facebook's one "
                                "private reply")
        assert "Messenger to" not in title
        await pilot.press(*"grazie", "ctrl+s")
        await settle(pilot)
        assert isinstance(desk_app.screen, ConversationScreen)
    [action] = outbox(desk_store)
    assert action.kind == "private_reply"
    assert action.conversation_id == conversation_of(desk_store, "Il pacco").id


async def test_comment_with_open_messenger_names_messenger_and_queues_a_message(
    desk_app: DeskApp, desk_store: Engine
) -> None:
    messenger_id = add_messenger(desk_store, hours_ago=10)  # inside the 24-hour window
    async with desk_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        title = await compose_privately_to_anna(desk_app, pilot)
        assert title == "PRIVATE message on Messenger to @anna.verdi"
        await pilot.press(*"grazie", "ctrl+s")
        await settle(pilot)
        assert isinstance(desk_app.screen, ConversationScreen)
    [action] = outbox(desk_store)
    assert (action.kind, action.conversation_id) == ("direct_message", messenger_id)


async def test_messenger_window_passed_falls_back_to_the_private_reply(
    desk_app: DeskApp, desk_store: Engine
) -> None:
    add_messenger(desk_store, hours_ago=30)  # RESPONSE window passed, no Human Agent
    async with desk_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        title = await compose_privately_to_anna(desk_app, pilot)
        assert title.startswith("PRIVATE reply to @anna.verdi's FB comment")
        await pilot.press(*"grazie", "ctrl+s")
        await settle(pilot)
    assert [action.kind for action in outbox(desk_store)] == ["private_reply"]


async def test_nothing_is_sent_when_the_channel_changed_while_writing(
    desk_app: DeskApp, desk_store: Engine
) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        title = await compose_privately_to_anna(desk_app, pilot)
        assert title.startswith("PRIVATE reply")
        add_messenger(desk_store, hours_ago=1)  # Anna writes on Messenger meanwhile
        await pilot.press(*"grazie", "ctrl+s")
        await settle(pilot)
    assert outbox(desk_store) == []
