"""Who the customer is: the verification state on the customer card (seed 000).

Chat is a vector for social engineering: before an operator talks about an account in
private (balances, orders, changes of address), the person must be verified, and the
card says by whom, when and how.
"""

from __future__ import annotations

import re
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.clock import Clock
from socialdesk.errors import SocialdeskError
from socialdesk.store.models import AuditEntry, Contact

VERIFICATION_METHODS = ("email_code", "sms_code", "call_back", "order_lookup", "in_person")
"""How a person may be verified; the first two send a code to a contact already on file."""

ACCOUNT_WORDS_RE = re.compile(
    r"""\b(?:
        account|conto|saldo|balance|password|pin|otp|codice\s+(?:di\s+)?(?:accesso|sicurezza)
      | login|credenziali|credentials|iban|bonifico|transfer|rimborso|refund|carta|card
      | indirizzo|address|e-?mail|telefono|phone|ordine|order|abbonamento|subscription
      | fattura|invoice|pagamento|payment|addebito|charge|contratto|contract|utenza
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)
"""Words that mean the reply talks about the customer's account or money."""


class IdentityError(SocialdeskError):
    """A verification that cannot be recorded as asked."""

    title = "cannot verify"
    exit_code = 2


class _VerifiedCard(Protocol):
    @property
    def verified_at(self) -> object | None: ...


def account_data_warning(contact: _VerifiedCard | None, text: str) -> str | None:
    """The warning to show before a private reply about account data to an unverified person.

    None when the reply does not touch account data or the contact is verified.
    """
    if contact is not None and contact.verified_at is not None:
        return None
    match = ACCOUNT_WORDS_RE.search(text)
    if match is None:
        return None
    return (
        f"This reply talks about account data ({match.group().lower()!r}) and the customer "
        "is not verified: confirm who they are first (a code to the e-mail or phone on "
        "file, or a call-back), then mark the card verified."
    )


def verify_contact(
    engine: Engine, contact_id: int, operator: str, method: str, *, now: Clock
) -> Contact:
    """Mark the contact verified by `operator` with `method`; audited.

    Raises:
        IdentityError: unknown contact, empty operator, or a method not in
            `VERIFICATION_METHODS`.
    """
    if method not in VERIFICATION_METHODS:
        raise IdentityError(
            f"unknown verification method {method!r}; use one of {', '.join(VERIFICATION_METHODS)}"
        )
    if not operator.strip():
        raise IdentityError("say who verified the customer (operator initials)")
    with Session(engine, expire_on_commit=False) as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise IdentityError(f"no contact {contact_id}")
        moment = now()
        contact.verified_at = moment
        contact.verified_by = operator
        contact.verified_method = method
        session.add(contact)
        session.add(AuditEntry(at=moment, actor=operator, action="verify_contact",
                               target_type="contact", target_id=str(contact_id),
                               detail={"method": method}))
        session.commit()
        return contact
