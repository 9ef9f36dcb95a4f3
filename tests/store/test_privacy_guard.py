"""The guard's records in suggest mode: exposures wait for an operator, nothing is sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from connectors.base import PullPage
from socialdesk.clock import system_clock
from socialdesk.config import Settings
from socialdesk.guard import (
    GuardError,
    contact_exposures,
    dismiss_suggestion,
    guard_new_messages,
    pending_suggestions,
)
from socialdesk.ingest import ensure_account, ingest_page
from socialdesk.models import AuditEntry, Conversation, OutboxAction, PrivacyExposure
from socialdesk.privacy.detect import Detector
from socialdesk.sync import mark_personal_data
from tests.support import item

IBAN = "IT60X0542811101000000123456"
X_ACCOUNT = {"name": "brand-x", "platform": "x", "user_id": "99", "bearer_token_env": "A",
             "consumer_key_env": "B", "consumer_secret_env": "C", "access_token_env": "D",
             "access_token_secret_env": "E"}


def settings(mode: str) -> Settings:
    return Settings.model_validate({"privacy": {"mode": mode}, "accounts": [X_ACCOUNT]})


def ingest_mention(store: Engine, text: str) -> None:
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    detector = Detector()
    with Session(store) as session:
        page = PullPage("mentions", [item("t1", text=text)])
        report = ingest_page(session, account, page, now=system_clock())
        mark_personal_data(session, detector, report)


def guard(store: Engine, mode: str) -> list[int]:
    config = settings(mode)
    since = system_clock() - timedelta(minutes=1)
    report = guard_new_messages(store, config, config.account("brand-x"), Detector(), since,
                                now=system_clock)
    return report.exposures


def test_suggest_mode_stores_the_plan_and_sends_nothing(store: Engine) -> None:
    ingest_mention(store, f"@brand rimborso sul mio IBAN {IBAN} per favore")

    exposures = guard(store, "suggest")

    waiting = pending_suggestions(store)
    assert [e.id for e in waiting] == exposures and len(exposures) == 1
    exposure = waiting[0]
    assert (exposure.types, exposure.mode, exposure.language) == ("IBAN", "suggest", "it")
    assert [step["kind"] for step in exposure.plan] == ["direct_message", "reply", "reply"]
    assert IBAN not in str(exposure.plan)
    with Session(store) as session:
        assert session.exec(select(OutboxAction)).all() == []


def test_a_post_is_guarded_once(store: Engine) -> None:
    ingest_mention(store, f"@brand IBAN {IBAN}")
    assert len(guard(store, "suggest")) == 1
    assert guard(store, "suggest") == []


def test_dismissing_a_suggestion_keeps_the_exposure_and_audits(store: Engine) -> None:
    ingest_mention(store, f"@brand IBAN {IBAN}")
    exposure_id = guard(store, "suggest")[0]

    dismiss_suggestion(store, exposure_id, "MR", now=system_clock)

    assert pending_suggestions(store) == []
    with Session(store) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        audit = session.exec(select(AuditEntry).where(
            AuditEntry.action == "privacy_guard.dismiss")).one()
    assert exposure is not None and (exposure.outcome, exposure.resolved_by) == ("dismissed", "MR")
    assert audit.actor == "MR"
    with pytest.raises(GuardError, match="not waiting"):
        dismiss_suggestion(store, exposure_id, "MR", now=system_clock)


def test_mode_off_records_nothing(store: Engine) -> None:
    ingest_mention(store, f"@brand IBAN {IBAN}")
    assert guard(store, "off") == []
    with Session(store) as session:
        assert session.exec(select(PrivacyExposure)).all() == []


def test_the_customer_card_lists_exposed_types_and_times_never_values(store: Engine) -> None:
    ingest_mention(store, f"@brand IBAN {IBAN}, tel 347 123 4567")
    exposure_id = guard(store, "suggest")[0]
    with Session(store) as session:
        conversation = session.exec(select(Conversation)).one()

    card = contact_exposures(store, conversation.contact_id or 0)

    assert [(e.exposure_id, e.types) for e in card] == [(exposure_id, ("IBAN", "PHONE"))]
    assert card[0].detected_at is not None and IBAN not in repr(card)
