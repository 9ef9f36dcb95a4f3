"""`privacy rescan`: changed detector settings reach every stored message, decisions stay,
and the desk's queue, the reports and the guard then agree on what is personal data."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from connectors.base import Channel, PullPage
from socialdesk.clock import system_clock
from socialdesk.config import Settings
from socialdesk.privacy.detector_settings import detector_for, settings_fingerprint
from socialdesk.privacy.guard import guard_undecided
from socialdesk.privacy.rescan import rescan_store, stale_accounts
from socialdesk.reports import ReportPeriod, message_rows, text_masker
from socialdesk.store.detection_scan import adopt_fingerprint
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.models import Message, PrivacyExposure
from socialdesk.store.queries.queue import InboxFilter, inbox_page
from socialdesk.sync import SyncContext, _check_detection_settings, spans_finder
from tests.store.test_privacy_guard import X_ACCOUNT
from tests.support import item

OURS = "+39 347 123 4567"
DECIDED_PHONE = "+39 347 765 4321"
BADGE = r"\bZQ-[0-9]{4}\b"


def settings(**privacy: Any) -> Settings:
    return Settings.model_validate({"privacy": {"mode": "suggest", **privacy},
                                    "accounts": [X_ACCOUNT]})


BEFORE = settings()
AFTER = settings(patterns={"badge": BADGE}, own_numbers=[OURS, DECIDED_PHONE])
"""A new custom pattern finds badges; both numbers become the brand's own."""


def stored_with(store: Engine, config: Settings) -> None:
    """Messages as syncs with `config` store them: one the guard has decided, then three
    stored by a pass whose guard has not run yet."""
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    find_spans = spans_finder(detector_for(config.privacy))
    with Session(store) as session:
        ingest_page(session, account, PullPage("mentions", [
            item("decided", text=f"@brand call me on {DECIDED_PHONE}", author="u3")]),
            now=system_clock(), find_spans=find_spans)
        adopt_fingerprint(session, account.id or 0, settings_fingerprint(config.privacy),
                          system_clock())
        session.commit()
    guard_undecided(store, config, config.account("brand-x"), now=system_clock)
    with Session(store) as session:
        ingest_page(session, account, PullPage("mixed", [
            item("badge-public", text="@brand hello ZQ-7781 thanks", minutes=1),
            item("badge-dm", text="hi, ZQ-5512 here", channel=Channel.DM, thread_key="dm-1",
                 minutes=2),
            item("ours-undecided", text=f"@brand call {OURS} now", author="u2", minutes=3),
        ]), now=system_clock(), find_spans=find_spans)
        session.commit()


def marks(store: Engine) -> dict[str, tuple[bool, str | None, str | None]]:
    with Session(store) as session:
        return {m.external_id: (m.has_pii, m.pii_types, m.privacy_state)
                for m in session.exec(select(Message))}


def test_a_settings_change_is_seen_then_applied_by_the_rescan(store: Engine) -> None:
    stored_with(store, BEFORE)
    assert stale_accounts(store, BEFORE) == []
    assert stale_accounts(store, AFTER) == ["brand-x"]

    report = rescan_store(store, AFTER, ["brand-x"], now=system_clock)

    assert (report.scanned, report.changed) == (4, 4)
    assert (report.now_with_personal_data, report.no_longer_with_personal_data) == (2, 2)
    assert (report.now_undecided, report.no_longer_undecided) == (1, 1)
    assert marks(store) == {
        # a customer's public post that now holds personal data waits for the guard
        "badge-public": (True, "CUSTOM:badge", "undecided"),
        # a private one is marked, and nothing is left to decide
        "badge-dm": (True, "CUSTOM:badge", None),
        # undecided, and no longer holds any: off the guard's list
        "ours-undecided": (False, None, None),
        # the decision taken stays, with its record
        "decided": (False, None, "decided"),
    }
    with Session(store) as session:
        assert len(session.exec(select(PrivacyExposure)).all()) == 1
    assert stale_accounts(store, AFTER) == []


def test_after_the_rescan_the_queue_the_reports_and_the_guard_agree(store: Engine) -> None:
    stored_with(store, BEFORE)
    rescan_store(store, AFTER, ["brand-x"], now=system_clock)

    flagged = inbox_page(store, InboxFilter(has_pii=True), None, 10)
    assert [row.preview for row in flagged] == ["@brand hello ZQ-7781 thanks"]
    assert flagged[0].preview_spans == [[13, 20, "CUSTOM:badge"]]
    with Session(store) as session:
        texts = {row[4]: row[9] for row in message_rows(
            session, ReportPeriod(None, None), text_masker(detector_for(AFTER.privacy)))}
    assert "7781" not in texts["badge-public"] and "5512" not in texts["badge-dm"]
    assert texts["ours-undecided"] == f"'@brand call {OURS} now"  # formula-guarded, as in the CSV
    report = guard_undecided(store, AFTER, AFTER.account("brand-x"), now=system_clock)
    with Session(store) as session:
        exposures = session.exec(select(PrivacyExposure.types).where(
            PrivacyExposure.id.in_(report.exposures))).all()  # type: ignore[attr-defined]
    assert list(exposures) == ["CUSTOM:badge"]


def test_a_second_rescan_changes_nothing(store: Engine) -> None:
    stored_with(store, BEFORE)
    rescan_store(store, AFTER, ["brand-x"], now=system_clock)
    before = marks(store)

    again = rescan_store(store, AFTER, ["brand-x"], now=system_clock)

    assert (again.scanned, again.changed) == (4, 0)
    assert marks(store) == before


def test_the_guard_never_scans_and_waits_for_spans_it_lacks(store: Engine) -> None:
    """A message flagged without its spans (before they were stored) stays undecided for
    the rescan: the guard decides on stored spans only."""
    stored_with(store, BEFORE)
    with Session(store) as session:
        ours = session.exec(select(Message).where(Message.external_id == "ours-undecided")).one()
        ours.pii_spans = None
        session.commit()

    report = guard_undecided(store, BEFORE, BEFORE.account("brand-x"), now=system_clock)

    assert report.exposures == []
    assert marks(store)["ours-undecided"] == (True, "PHONE", "undecided")
    rescan_store(store, BEFORE, ["brand-x"], now=system_clock)
    assert guard_undecided(store, BEFORE, BEFORE.account("brand-x"),
                           now=system_clock).exposures != []


def test_sync_records_the_settings_once_then_warns_when_they_change(
    store: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    first = SyncContext(BEFORE, store, detector_for(BEFORE.privacy), system_clock)
    with caplog.at_level(logging.WARNING, logger="socialdesk.sync"):
        _check_detection_settings(first, account)
        assert "privacy rescan" not in caplog.text

        _check_detection_settings(SyncContext(AFTER, store, detector_for(AFTER.privacy),
                                              system_clock), account)

    assert ("brand-x: detector settings changed since the last scan: run socialdesk "
            "privacy rescan") in caplog.text
    assert stale_accounts(store, AFTER) == ["brand-x"]  # only a rescan records new settings
