"""Issue 5's "done when", as a new user would do it on the demo: with only the key line and
`?` to go by, resolve a conversation, answer one privately with a saved reply and leave a
signed note. The answer really reaches the (sandbox) platform."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from socialdesk.clock import system_clock
from socialdesk.config import settings_from_mapping
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, sandbox_config_text
from socialdesk.store.db import open_store
from socialdesk.store.models import Conversation, Note, OutboxAction
from socialdesk.sync import sync_accounts
from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.launch import desk_from_settings
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from socialdesk.tui.screens.modals import HelpScreen
from socialdesk.tui.widgets.composer import ComposerModal
from socialdesk.tui.widgets.queue_list import ConversationList
from tests.tui.desk_fixture import settle
from tests.tui.screen_text import queue_lines, screen_text


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        tuple[SandboxServer, Engine, DeskApp]]:
    """The demo's desk: the sandbox synced into a fresh store, the demo's own config."""
    monkeypatch.setenv(SANDBOX_TOKEN_ENV, "demo")
    with SandboxServer(seed=0, static=True, messages=24) as sandbox:
        database_url = f"sqlite:///{tmp_path / 'demo.db'}"
        settings = settings_from_mapping(
            tomllib.loads(sandbox_config_text(sandbox.start(), database_url)), source="test")
        engine = open_store(database_url)
        sync_accounts(settings, engine, clock=system_clock)
        desk = desk_from_settings(settings, engine)
        desk.poll_seconds = 0
        yield sandbox, engine, make_app(desk)
        engine.dispose()


def key_line(app: DeskApp) -> str:
    return screen_text(app).rstrip().splitlines()[-1]


async def open_first(app: DeskApp, pilot: object, channel: str) -> ConversationScreen:
    """Move down to the first row on `channel` (as read on screen) and press Enter."""
    row = next(n for n, line in enumerate(queue_lines(app)) if f" {channel} " in line)
    await pilot.press(*["down"] * (row - app.screen.query_one(ConversationList).cursor),  # type: ignore[attr-defined]
                      "enter")
    await settle(pilot)
    assert isinstance(app.screen, ConversationScreen)
    return app.screen


async def test_a_new_user_resolves_answers_privately_with_a_saved_reply_and_notes(
    demo: tuple[SandboxServer, Engine, DeskApp],
) -> None:
    sandbox, engine, app = demo
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert key_line(app).lstrip().startswith("⏎ Open")
        assert key_line(app).endswith("? All keys")  # where to find the rest

        conversation = await open_first(app, pilot, "X mention")
        await pilot.press("question_mark")  # what can I do here?
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        guide = screen_text(app)
        assert all(word in guide for word in ("Resolved", "Private", "Note"))
        await pilot.press("escape", "3")  # the help's "3 Resolved"
        await settle(pilot)
        with Session(engine) as session:
            resolved = session.get(Conversation, conversation.conversation_id)
            assert resolved is not None and resolved.status == "resolved"
        assert "RESOLVED" in screen_text(app)

        await pilot.press("escape")
        await settle(pilot)
        conversation = await open_first(app, pilot, "X DM")
        await pilot.press("p")  # "p Private": the composer says where it goes first
        await settle(pilot)
        assert isinstance(app.screen, ComposerModal)
        assert "PRIVATE" in screen_text(app) and "X DM" in screen_text(app)
        await pilot.press("tab", "enter", "ctrl+s")  # the closest saved reply, sent
        await settle(pilot)
        if "not verified" in screen_text(app):
            await pilot.press("y")  # the desk asks before account data goes to the unverified
            await settle(pilot)
        await settle(pilot)
        with Session(engine) as session:
            answer = session.exec(select(OutboxAction).where(
                OutboxAction.conversation_id == conversation.conversation_id)).one()
        assert answer.state == "sent" and answer.text.startswith(("Hi ", "Ciao "))
        assert "{name}" not in answer.text
        sent = [a for a in sandbox.state()["actions"] if a["ok"] and a["kind"] == "x.dm"]
        assert [a["text"] for a in sent] == [answer.text]

        await pilot.press("n", *"called back, all fine", "enter")  # "n Note"
        await settle(pilot)
        with Session(engine) as session:
            note = session.exec(select(Note)).one()
        initials = app.desk.operator.initials
        assert (note.text, note.initials) == ("called back, all fine", initials)
        assert initials in screen_text(app) and "called back, all fine" in screen_text(app)
