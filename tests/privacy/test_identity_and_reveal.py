"""Identity verification on the customer card, audited reveals, masked logs."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from socialdesk.clock import system_clock
from socialdesk.config import Settings
from socialdesk.desk.identity import IdentityError, account_data_warning, verify_contact
from socialdesk.privacy.logfilter import PersonalDataFilter
from socialdesk.store.models import AuditEntry, Contact

UNVERIFIED = SimpleNamespace(verified_at=None)


def test_unverified_customer_gets_a_warning_before_account_talk() -> None:
    warning = account_data_warning(UNVERIFIED, "Ho controllato il tuo conto: il rimborso è partito")
    assert warning is not None and "not verified" in warning


def test_verified_customer_and_small_talk_need_no_warning() -> None:
    assert account_data_warning(SimpleNamespace(verified_at=system_clock()), "il tuo conto") is None
    assert account_data_warning(UNVERIFIED, "Grazie, buona giornata!") is None


def test_verify_contact_records_who_when_how_and_audits(store: Engine) -> None:
    with Session(store) as session:
        contact = Contact(display_name="Giulia", created_at=system_clock())
        session.add(contact)
        session.commit()
        contact_id = contact.id or 0

    verified = verify_contact(store, contact_id, "MR", "call_back", now=system_clock)

    assert (verified.verified_by, verified.verified_method) == ("MR", "call_back")
    assert verified.verified_at is not None
    assert account_data_warning(verified, "il tuo conto") is None
    with Session(store) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "verify_contact")).one()
    assert (audit.actor, audit.target_id) == ("MR", str(contact_id))


def test_verify_contact_refuses_an_unknown_method(store: Engine) -> None:
    with pytest.raises(IdentityError, match="unknown verification method"):
        verify_contact(store, 1, "MR", "gut feeling", now=system_clock)


def test_log_records_show_personal_data_masked() -> None:
    record = logging.LogRecord("t", logging.WARNING, __file__, 1,
                               "customer wrote %s", ("chiamami al +39 347 123 4567",), None)

    PersonalDataFilter().filter(record)

    assert record.getMessage() == "customer wrote chiamami al +39 *** *** **67"


def test_a_template_with_an_unknown_placeholder_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown placeholder \{nome\}"):
        Settings.model_validate({"privacy": {"templates": {"it": {
            "private_message": "Ciao {nome}", "public_pointer": "x", "public_pointer_link": "y"}}}})
