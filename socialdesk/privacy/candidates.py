"""The kinds of personal data the detector reports, their ranks, and the candidate spans.

Every family module (phones, bank numbers, tax codes, contact details, context codes)
yields `Candidate`s; the detector keeps the best non-overlapping ones by `RANK`.
"""

from __future__ import annotations

from typing import NamedTuple

PHONE = "PHONE"
EMAIL = "EMAIL"
IBAN = "IBAN"
CARD = "CARD"
IT_FISCAL_CODE = "IT_FISCAL_CODE"
IT_VAT = "IT_VAT"
CRO = "CRO"
TRN = "TRN"
ADDRESS = "ADDRESS"
REFERENCE = "REFERENCE"

# When two candidates overlap, the higher rank wins, then the longer span.
# Explicit brand patterns and strong check digits first; context-only types after.
RANK = {
    IBAN: 90, CARD: 85, IT_FISCAL_CODE: 80, EMAIL: 75, TRN: 70, IT_VAT: 65,
    CRO: 60, REFERENCE: 55, PHONE: 50, ADDRESS: 40,
}
RANK_CUSTOM = 100
RANK_CRO_CHECKSUM_ONLY = 45  # a bare 11-digit run: a valid phone reading beats it


class Candidate(NamedTuple):
    """A validated span of one kind, before overlapping candidates are resolved.

    A named tuple, not a frozen dataclass: a post makes a few of them on every scan, and
    a tuple is built in a third of the time.
    """

    rank: int
    start: int
    end: int
    type: str


def digits_only(text: str) -> str:
    """The ASCII digits of `text`, separators dropped."""
    return "".join(ch for ch in text if "0" <= ch <= "9")
