"""Roles in the desk (issue 19 point 5, the desk's half): with `[team]` in the config,
`v` (reveal) and `c` (verify identity) are refused to a role that may not, and the notice
says who may and why; a role granted in the database counts as the config's does."""

from __future__ import annotations

from sqlalchemy import Engine
from textual.widgets import Static

from socialdesk.config import Settings, settings_from_mapping
from socialdesk.desk.roles import grant_role
from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.context import Desk, Operator
from socialdesk.tui.screens.conversation_screen import ConversationScreen, MessageBubble
from socialdesk.tui.screens.modals import ChoiceModal
from tests.tui.desk_fixture import NOW
from tests.tui.screen_text import widget_text
from tests.tui.team_fixture import in_conversation, notifications, press_and_settle
from tests.tui.test_desk import audit_actions

PHONE = "+39 347 123 4567"
"""Giulia's phone number, masked in her public mention until revealed."""


def team_settings() -> Settings:
    return settings_from_mapping({"team": {"roles": {"LB": "lead", "AB": "agent"}}}, "test")


def desk_as(store: Engine, initials: str, settings: Settings) -> DeskApp:
    return make_app(Desk(engine=store, operator=Operator(initials), clock=lambda: NOW,
                         poll_seconds=0, heartbeat_seconds=0, settings=settings))


def thread(app: DeskApp) -> str:
    screen = app.screen
    assert isinstance(screen, ConversationScreen)
    return " ".join(widget_text(bubble.content) for bubble in screen.query(MessageBubble))


async def thread_after_v(app: DeskApp) -> str:
    """Giulia's thread as `app` shows it once `v` (reveal) is pressed there: whether her
    phone number shows is what a role decides."""
    async with in_conversation(app, "Giulia") as pilot:
        await press_and_settle(pilot, "v")
        return thread(app)


async def test_an_agent_may_not_reveal_and_is_told_who_may(desk_store: Engine) -> None:
    app = desk_as(desk_store, "AB", team_settings())
    async with in_conversation(app, "Giulia") as pilot:
        await press_and_settle(pilot, "v")
        assert PHONE not in thread(app)
        refusal = notifications(app)[-1]
        assert "AB may not reveal personal data (role agent)" in refusal
        assert "Who may: LB (role lead)" in refusal
    assert "reveal" not in [action for _, action, _ in audit_actions(desk_store)]


async def test_after_a_refused_reveal_v_asks_again(desk_store: Engine) -> None:
    """A refusal must not leave the reveal "on its way": granted a role, `v` works."""
    settings = team_settings()  # EF: named nowhere, so the default role (agent)
    app = desk_as(desk_store, "EF", settings)
    async with in_conversation(app, "Giulia") as pilot:
        await press_and_settle(pilot, "v")
        assert "EF may not reveal personal data" in notifications(app)[-1]
        grant_role(settings, desk_store, "EF", "lead", by="LB", now=NOW)
        await press_and_settle(pilot, "v")
        assert PHONE in thread(app)


async def test_a_lead_reveals(desk_store: Engine) -> None:
    assert PHONE in await thread_after_v(desk_as(desk_store, "LB", team_settings()))


async def test_a_role_granted_in_the_database_lets_the_agent_reveal(desk_store: Engine) -> None:
    settings = team_settings()
    grant_role(settings, desk_store, "EF", "lead", by="LB", now=NOW)
    assert PHONE in await thread_after_v(desk_as(desk_store, "EF", settings))


async def test_an_agent_may_not_verify_and_is_not_asked_how(desk_store: Engine) -> None:
    app = desk_as(desk_store, "AB", team_settings())
    async with in_conversation(app, "Marco") as pilot:
        await press_and_settle(pilot, "c")
        assert isinstance(app.screen, ConversationScreen)
        assert "AB may not verify identities" in notifications(app)[-1]
        card = widget_text(app.screen.query_one("#card-body", Static).content)
        assert "NOT verified" in card


async def test_a_lead_picks_how_the_customer_was_verified(desk_store: Engine) -> None:
    app = desk_as(desk_store, "LB", team_settings())
    async with in_conversation(app, "Marco") as pilot:
        await press_and_settle(pilot, "c")
        assert isinstance(app.screen, ChoiceModal)
        await press_and_settle(pilot, "enter")
        card = widget_text(app.screen.query_one("#card-body", Static).content)
        assert "Identity verified by LB" in card
