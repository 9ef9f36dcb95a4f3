"""The desk masks with the spans stored at ingest and never runs the detector; the `PII`
marker and `p` mean personal data in public; the card lists what was shared privately."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from socialdesk.config import Settings
from socialdesk.privacy.detect import Detector
from socialdesk.store.detection_scan import adopt_fingerprint
from socialdesk.store.models import Account
from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.context import Desk, Operator
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from socialdesk.tui.widgets.customer_card import render_card
from tests.tui.desk_fixture import NOW, settle
from tests.tui.screen_text import queue_lines, screen_text, widget_text
from tests.tui.test_card_history import add_to_contact, marco_with_history
from tests.tui.test_desk import SIZE, conversation_of
from tests.tui.test_desk_triage import choice_labels, open_row

ORDER_TEXT = "my order number is 112-4563, where is it?"


def detector_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Detector, text: str) -> list[Any]:
        raise AssertionError(f"the desk ran the detector on {text!r}")

    monkeypatch.setattr(Detector, "scan", refuse)


class TestNoDetectorInTheDesk:
    async def test_queue_thread_and_history_mask_from_stored_spans(
        self, desk_app: DeskApp, desk_store: Engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        marco_with_history(desk_store)
        detector_refused(monkeypatch)
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            giulia = queue_lines(desk_app)[0]
            assert "+39 ***" in giulia and "123 4567" not in giulia
            await open_row(desk_app, pilot, 0)
            thread = screen_text(desk_app)
            assert "+39 *** *** **67" in thread and "123 4567" not in thread
            await pilot.press("escape")
            await settle(pilot)
            await open_row(desk_app, pilot, 2)  # Marco's X DM
            await pilot.press("o")
            await settle(pilot)
            messenger = choice_labels(desk_app)[0]
            assert "+39 ***" in messenger and "765 4321" not in messenger


class TestPersonalDataMarker:
    async def test_a_private_order_number_is_no_pii_but_a_public_phone_is(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        marco = conversation_of(desk_store, "refund for booking")
        add_to_contact(desk_store, marco.contact_id or 0, "facebook", "messenger", "private",
                       0, ORDER_TEXT, "REFERENCE")
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            lines = queue_lines(desk_app)
            order_row = next(line for line in lines if "where is it" in line)
            giulia = next(line for line in lines if "Giulia" in line)
            assert " PII " not in order_row and "FB message" in order_row
            assert " PII " in giulia
            await pilot.press("p")
            await settle(pilot)
            filtered = queue_lines(desk_app)
            assert [("Giulia" in line, "Sara" in line) for line in filtered] == [
                (True, False), (False, True)]

    async def test_the_card_lists_what_was_shared_privately(
        self, desk_app: DeskApp, desk_store: Engine
    ) -> None:
        marco = conversation_of(desk_store, "refund for booking")
        add_to_contact(desk_store, marco.contact_id or 0, "facebook", "messenger", "private",
                       0, ORDER_TEXT, "REFERENCE")
        async with desk_app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            desk_app.open_conversation(marco.id or 0)
            await settle(pilot)
            screen = desk_app.screen
            assert isinstance(screen, ConversationScreen)
            card = widget_text(render_card(screen.card, desk_app.desk.zone))
            assert "Shared privately: REFERENCE" in card
            assert "Shown in public: none" in card


async def test_the_desk_says_when_the_detector_settings_changed(desk_store: Engine) -> None:
    with Session(desk_store) as session:
        for account in session.exec(select(Account)).all():
            adopt_fingerprint(session, account.id or 0, "an-older-fingerprint", NOW)
        session.commit()
    settings = Settings.model_validate({"accounts": [
        {"name": "brand-x", "platform": "x", "user_id": "99", "bearer_token_env": "A",
         "consumer_key_env": "B", "consumer_secret_env": "C", "access_token_env": "D",
         "access_token_secret_env": "E"}]})
    app = make_app(Desk(engine=desk_store, operator=Operator("AB"), clock=lambda: NOW,
                        poll_seconds=0, settings=settings))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        messages = [n.message for n in app._notifications]
    assert ("brand-x: detector settings changed since the last scan: run socialdesk "
            "privacy rescan") in messages
