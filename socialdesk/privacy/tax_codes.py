"""Italian tax codes: codice fiscale and partita IVA, accepted only with valid check digits.

A codice fiscale is recognised by its shape anywhere; a bare 11-digit partita IVA
collides with phone numbers, so it needs the `IT` prefix here or a context word naming it
(see `context_codes`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum.it import codicefiscale, iva

from socialdesk.privacy.candidates import IT_FISCAL_CODE, IT_VAT, RANK, Candidate, digits_only
from socialdesk.privacy.lookalikes import TextScan

_OMOCODE = "0-9LMNPQRSTUVlmnpqrstuv"
# The lookbehind comes first: it fails at once inside words, before six letters are read.
_CF_RE = re.compile(
    rf"(?<![A-Za-z0-9])[A-Za-z]{{6}}[{_OMOCODE}]{{2}}[A-EHLMPRSTa-ehlmprst]"
    rf"[{_OMOCODE}]{{2}}[A-Za-z][{_OMOCODE}]{{3}}[A-Za-z](?![A-Za-z0-9])"
)
_VAT_PREFIXED_RE = re.compile(r"IT(?<![A-Za-z0-9]IT)\s?[:\-]?\s?\d(?: ?\d){10}(?!\d)")
VAT_CODE_AT_RE = re.compile(r"(?:IT\s?[:\-]?\s?)?\d(?: ?\d){10}(?!\d)")
CF_CODE_AT_RE = re.compile(r"[A-Za-z0-9]{16}(?![A-Za-z0-9])|\d{11}(?!\d)")


def fiscal_codes(scan: TextScan, pos: int = 0) -> Iterator[Candidate]:
    """Codici fiscali in the text from `pos` on, omocodia included, with a valid check
    letter."""
    for match in _CF_RE.finditer(scan.text, pos):
        value = match.group()
        # an all-letter (fully omocode) code must be upper case: lower-case words are prose
        if value.isalpha() and not value.isupper():
            continue
        if codicefiscale.is_valid(value) and not scan.in_url_or_handle(match.start()):
            yield Candidate(RANK[IT_FISCAL_CODE], *match.span(), IT_FISCAL_CODE)


def prefixed_vat(scan: TextScan) -> Iterator[Candidate]:
    """EU VAT layout `IT 01234567890`: the country prefix is the context word."""
    if "IT" not in scan.text:
        return
    for match in _VAT_PREFIXED_RE.finditer(scan.text):
        if iva.is_valid(digits_only(match.group())) and not scan.in_url_or_handle(match.start()):
            yield Candidate(RANK[IT_VAT], *match.span(), IT_VAT)
