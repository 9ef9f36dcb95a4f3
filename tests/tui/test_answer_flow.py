"""Answering at the desk as an operator meets it: a public answer waits for the privacy
redirect (issue 15 point 1), the draft survives a refusal and the counter counts as the
channel does (issue 17 point 2), and a failure says why and what to do (issue 17 point 5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.widgets import Label, TextArea

from connectors.base import ActionKind
from socialdesk.config import settings_from_mapping
from socialdesk.store.models import AuditEntry, OutboxAction, OutboxState, PrivacyExposure
from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.context import Desk, Operator
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from socialdesk.tui.screens.public_answer_question import PublicAnswerQuestion
from socialdesk.tui.widgets.composer import ComposerModal
from tests.tui.desk_fixture import NOW, settle
from tests.tui.screen_text import screen_text
from tests.tui.test_desk import SIZE
from tests.tui.test_desk_triage import open_row, suggest_redirect

HOSTILE_ROW = 1
"""The second row of the fixed queue: an X mention without personal data."""


def configured_app(store: Engine) -> DeskApp:
    """A desk that sends at once (it has a config), like `socialdesk tui --config`."""
    return make_app(Desk(engine=store, operator=Operator("AB"), clock=lambda: NOW,
                         poll_seconds=0, settings=settings_from_mapping({}, "test")))


def outbox(store: Engine) -> list[OutboxAction]:
    with Session(store) as session:
        return list(session.exec(select(OutboxAction).order_by(col(OutboxAction.id))))


def notifications(app: DeskApp) -> list[str]:
    return [n.message for n in app._notifications]


def composer_text(app: DeskApp) -> str:
    assert isinstance(app.screen, ComposerModal)
    return app.screen.query_one(TextArea).text


def counter(app: DeskApp) -> Label:
    return app.screen.query_one("#counter", Label)


class TestPublicAnswerWaitsForTheRedirect:
    async def test_r_asks_first_and_g_carries_out_the_redirect(self, desk_store: Engine) -> None:
        exposure_id = suggest_redirect(desk_store)
        app = configured_app(desk_store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(app, pilot, 0)
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, PublicAnswerQuestion)
            assert "redirect first with g, or answer in public anyway?" in screen_text(app)
            await pilot.press("g")
            await settle(pilot)
            await settle(pilot)
            assert isinstance(app.screen, ConversationScreen)
        with Session(desk_store) as session:
            exposure = session.get(PrivacyExposure, exposure_id)
            assert exposure is not None and exposure.outcome != "suggested"
            assert exposure.resolved_by == "AB"
        assert [a.kind for a in outbox(desk_store)] == [ActionKind.DIRECT_MESSAGE]

    async def test_answer_anyway_sends_in_public_and_is_audited_with_the_initials(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        suggest_redirect(desk_store)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 0)
            await pilot.press("r")
            await settle(pilot)
            await pilot.press("a")
            await settle(pilot)
            assert isinstance(desk_app.screen, ComposerModal)
            await pilot.press(*"on it", "ctrl+s")
            await settle(pilot)
        (action,) = outbox(desk_store)
        assert (action.kind, action.text, action.requested_by) == ("reply", "on it", "AB")
        with Session(desk_store) as session:
            audit = session.exec(select(AuditEntry).where(
                AuditEntry.action == "reply.public_anyway")).one()
        assert audit.actor == "AB" and audit.detail["types"] == ["PHONE"]

    async def test_escape_answers_nothing_and_a_private_answer_is_never_held(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        suggest_redirect(desk_store)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 0)
            await pilot.press("r")
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            await pilot.press("p")
            await settle(pilot)
            assert isinstance(desk_app.screen, ComposerModal)
            await pilot.press(*"hello", "ctrl+s")
            await settle(pilot)
        assert [(a.kind, a.text) for a in outbox(desk_store)] == [("direct_message", "hello")]


class TestDraftAndCounter:
    async def test_a_refused_reply_keeps_its_draft_through_closing_and_leaving(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        long_reply = "We are sorry for the wait. " * 14 + "Thanks"
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, HOSTILE_ROW)
            await pilot.press("r")
            await settle(pilot)
            desk_app.screen.query_one(TextArea).insert(long_reply)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(desk_app.screen, ConversationScreen)
            assert any("shorten it by" in note for note in notifications(desk_app))
            await pilot.press("r")
            await settle(pilot)
            assert composer_text(desk_app) == long_reply
            await pilot.press("escape", "escape", "up")  # composer, conversation, row 0
            await settle(pilot)
            await open_row(desk_app, pilot, 0)
            await pilot.press("r")
            await settle(pilot)
            assert composer_text(desk_app) == ""  # another customer: no draft of theirs
            await pilot.press("escape", "escape")
            await settle(pilot)
            await open_row(desk_app, pilot, 1)  # back down to the X mention
            await pilot.press("r")
            await settle(pilot)
            assert composer_text(desk_app) == long_reply
            await pilot.press("ctrl+l")
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            assert composer_text(desk_app) == ""
        assert outbox(desk_store) == []

    async def test_the_draft_goes_once_the_answer_is_queued(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, HOSTILE_ROW)
            await pilot.press("r", *"thanks", "ctrl+s")
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            assert composer_text(desk_app) == ""
        assert [a.text for a in outbox(desk_store)] == ["thanks"]

    async def test_the_counter_counts_as_x_does_and_turns_to_an_error_past_the_limit(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, HOSTILE_ROW)
            await pilot.press("r")
            await settle(pilot)
            area = desk_app.screen.query_one(TextArea)
            area.insert("see https://example.com/a/very/long/path/indeed 😀")
            await settle(pilot)
            shown = str(counter(desk_app).content)
            assert shown.startswith("30 / 280")  # "see " 4 + the URL 23 + " " 1 + emoji 2
            assert "URLs 23" in shown and not counter(desk_app).has_class("over")
            area.insert("a" * 251)
            await settle(pilot)
            assert str(counter(desk_app).content).endswith("281 / 280 (as X counts: URLs 23, "
                                                           "emoji and CJK 2): 1 too many")
            assert counter(desk_app).has_class("over")

    async def test_a_facebook_comment_counts_plain_characters_to_its_own_limit(
        self, desk_app: DeskApp
    ) -> None:
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(desk_app, pilot, 3)  # Anna's Facebook comment
            await pilot.press("r")
            await settle(pilot)
            desk_app.screen.query_one(TextArea).insert("ok 😀")
            await settle(pilot)
            assert str(counter(desk_app).content) == "4 / 8000"


def failing_send(reason: str, state: OutboxState = OutboxState.FAILED,
                 fail: Callable[[OutboxAction], bool] = lambda _: True) -> Callable[..., Any]:
    """A `send_now` that settles the row as the dispatcher would after the platform's
    refusal: the state and the stored reason (or sent, for rows `fail` lets through)."""

    def send_now(engine: Engine, _settings: object, action_id: int, *, now: Callable[[], datetime],
                 **_: object) -> OutboxAction:
        with Session(engine, expire_on_commit=False) as session:
            row = session.get(OutboxAction, action_id)
            assert row is not None
            refused = fail(row)
            row.state = state if refused else OutboxState.SENT
            row.last_error = reason if refused else None
            row.attempts, row.updated_at = 1, now()
            session.add(row)
            session.commit()
            return row

    return send_now


HIDE_REASON = "X lets the account hide only replies under its own posts (X 403 on hide reply)"
DUPLICATE = ("X refuses a post whose text repeats an earlier post of the account; reword the "
             "reply (X 403 on reply)")


class TestFailuresSayWhy:
    async def test_a_refused_hide_names_the_reason_and_what_to_do(
        self, desk_store: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("socialdesk.tui.screens.answer_keys.send_now",
                            failing_send(HIDE_REASON))
        app = configured_app(desk_store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(app, pilot, 0)
            await pilot.press("h")
            await settle(pilot)
            await settle(pilot)
            told = notifications(app)
        assert f"Hide failed: {HIDE_REASON} — ask the customer to delete it, or redirect " \
               "with g" in told

    async def test_a_partial_redirect_names_the_step_its_reason_and_the_retry(
        self, desk_store: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        exposure_id = suggest_redirect(desk_store)
        with Session(desk_store) as session:
            exposure = session.get(PrivacyExposure, exposure_id)
            assert exposure is not None
            exposure.plan = [*exposure.plan, {
                "purpose": "public_pointer", "kind": "reply", "recipient_id": None,
                "text": "@giulia_r, we've sent you a private message.",
                "target_external_id": "m1", "target_channel": "mention", "options": {}}]
            session.add(exposure)
            session.commit()
        monkeypatch.setattr("socialdesk.privacy.redirect.send_now", failing_send(
            DUPLICATE, fail=lambda row: row.kind == ActionKind.REPLY))
        app = configured_app(desk_store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_row(app, pilot, 0)
            await pilot.press("g", "y")
            await settle(pilot)
            await settle(pilot)
            told = notifications(app)
        pointer = next(a for a in outbox(desk_store) if a.kind == ActionKind.REPLY)
        assert (f"Privacy redirect partial: public pointer failed ({DUPLICATE}) — retry with "
                f"`socialdesk outbox retry {pointer.id}`") in told


async def test_a_post_the_guard_has_not_looked_at_asks_once_the_answer_is_written(
    desk_app: DeskApp, desk_store: Engine
) -> None:
    """Stored `undecided` (the guard runs after the pull): the desk did not know when `r`
    opened the composer, the store refuses, and the desk asks then, answer kept."""
    from sqlalchemy import update

    from socialdesk.store.models import Message, PrivacyState

    with Session(desk_store) as session:
        session.exec(update(Message).where(col(Message.text).contains("call me"))
                     .values(privacy_state=PrivacyState.UNDECIDED))
        session.commit()
    async with desk_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_row(desk_app, pilot, 0)
        await pilot.press("r", *"on it", "ctrl+s")
        await settle(pilot)
        assert isinstance(desk_app.screen, PublicAnswerQuestion)
        assert "has not looked at it yet" in screen_text(desk_app)
        assert outbox(desk_store) == []
        await pilot.press("a")
        await settle(pilot)
    assert [(a.kind, a.text) for a in outbox(desk_store)] == [("reply", "on it")]
