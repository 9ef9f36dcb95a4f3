"""Bank numbers: payment cards, IBANs, and Italian transfer references (CRO, TRN).

Cards and IBANs are accepted only with valid check digits (Luhn, ISO 7064 mod 97-10 and
the IBAN registry via `python-stdnum`); a bare CRO only with its own mod-13 check, a
bare TRN only when its layout is mostly digits, as Italian banks write it.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterator
from typing import Any

from stdnum import iban as std_iban
from stdnum import luhn, numdb
from stdnum.exceptions import ValidationError
from stdnum.util import get_cc_module

from socialdesk.privacy.candidates import (
    CARD,
    CRO,
    IBAN,
    RANK,
    RANK_CRO_CHECKSUM_ONLY,
    TRN,
    Candidate,
)
from socialdesk.privacy.lookalikes import TextScan

CRO_LENGTH = 11
_CRO_MODULUS = 13   # seed 000: last two digits = first nine mod 13
TRN_LENGTH = 30
TRN_MIN_DIGITS = 20  # a TRN without its name must be mostly digits (bank layouts are)
_CARD_SEPARATORS = frozenset({" ", "-"})
CARD_MIN_DIGITS, _CARD_MAX_DIGITS = 12, 19
_NUMBER_LEFT_STOP = frozenset("._,/+-")
# "IT60X054…", "IT60 X054 …", "IT75 J 08327 …", "ES 58 0049 …", "NO07.8380.08.06006".
# A space after the country code only with an upper-case code: "il 12 marzo…" is prose.
# Spaced forms continue only with capitals and digits, so "IT60 X054 … 456 e lo stipendio"
# stops before the prose; a lower-case IBAN is accepted as one compact token.
_IBAN_CAND_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Z]{2}[ ]?|[A-Za-z]{2})\d{2}[A-Za-z0-9]*"
    r"(?:[ \-.](?:[A-Z0-9]+|[A-Za-z0-9]*\d[A-Za-z0-9]*))*"
)
_IBAN_MIN_LENGTH, _IBAN_MAX_LENGTH = 15, 34
IBAN_MIN_DIGITS = 8  # check digits + a numeric account part: no registry layout has fewer
_IBAN_CHUNK_END_RE = re.compile(r"[A-Za-z0-9](?![A-Za-z0-9])")
CRO_CODE_AT_RE = re.compile(rf"\d{{{CRO_LENGTH}}}(?!\d)")
TRN_CODE_AT_RE = re.compile(rf"[A-Za-z0-9]{{{TRN_LENGTH}}}(?![A-Za-z0-9])")
_TRN_BARE_RE = re.compile(
    rf"[A-Z0-9]{{{TRN_LENGTH}}}(?<![A-Za-z0-9][A-Z0-9]{{{TRN_LENGTH}}})(?![A-Za-z0-9])"
)


def ibans(scan: TextScan, pos: int = 0) -> Iterator[Candidate]:
    """IBANs from `pos` on with valid check digits and a registry layout, longest valid
    prefix first."""
    text = scan.text
    match = _IBAN_CAND_RE.search(text, pos)
    while match is not None:
        start = match.start()
        resume = start + 1
        ends = [m.end() for m in _IBAN_CHUNK_END_RE.finditer(text, start, match.end())]
        for end in reversed(ends):  # longest valid prefix ending at a chunk boundary
            size = len(text[start:end].translate(_IBAN_COMPACT))  # the regex allows no other
            if not _IBAN_MIN_LENGTH <= size <= _IBAN_MAX_LENGTH:
                continue
            value = text[start:end]
            if iban_is_valid(value):
                if not scan.in_url_or_handle(start):
                    yield Candidate(RANK[IBAN], start, end, IBAN)
                resume = end  # the candidate may run on into a second IBAN
                break
        else:
            _block_failed_iban(scan, start, ends)
        match = _IBAN_CAND_RE.search(text, resume)


def _block_failed_iban(scan: TextScan, start: int, ends: list[int]) -> None:
    """An IBAN-shaped code that fails its check ("IBAN falso IT65 B813 9882 …") hides the
    digits in it: none of them is a phone, a card or a CRO."""
    if not ends:
        return
    size = len(scan.text[start:ends[-1]].translate(_IBAN_COMPACT))
    if size >= _IBAN_MIN_LENGTH:
        scan.word_blocks.append((start, ends[-1]))


def bare_trn(scan: TextScan) -> Iterator[Candidate]:
    """TRNs written without their name: only the mostly-digit layout banks use."""
    for match in _TRN_BARE_RE.finditer(scan.text):
        if _trn_format_ok(match.group()) and not scan.in_url_or_handle(match.start()):
            yield Candidate(RANK[TRN], *match.span(), TRN)


def cards(scan: TextScan, groups: list[tuple[int, int]]) -> Iterator[Candidate]:
    """Greedy: the longest run of groups joined by single spaces/dashes that is a card."""
    text = scan.text
    i = 0
    while i < len(groups):
        before = text[groups[i][0] - 1] if groups[i][0] > 0 else " "
        if before in _NUMBER_LEFT_STOP or before.isalnum():  # "IT43 O424 …", "x.4111"
            i += 1
            continue
        found = None
        digits = ""
        lengths: frozenset[int] | None = None  # the issuer's, read once its prefix is there
        for j in range(i, len(groups)):
            if j > i and text[groups[j - 1][1]:groups[j][0]] not in _CARD_SEPARATORS:
                break
            digits += text[groups[j][0]:groups[j][1]]
            if len(digits) > _CARD_MAX_DIGITS:
                break
            if len(digits) >= CARD_MIN_DIGITS:
                if lengths is None:
                    lengths = _card_lengths(digits)
                if len(digits) in lengths and luhn.is_valid(digits):
                    found = j
        if found is None or _word_char_after(text, groups[found][1]):
            i += 1
            continue
        start, end = groups[i][0], groups[found][1]
        if not scan.in_url_or_handle(start) and not scan.word_blocked(start, end):
            yield Candidate(RANK[CARD], start, end, CARD)
        i = found + 1


def bare_cro(scan: TextScan, groups: list[tuple[int, int]]) -> Iterator[Candidate]:
    """11-digit runs that pass the CRO mod-13 check; a valid phone reading outranks them."""
    text = scan.text
    for start, end in groups:
        if end - start != CRO_LENGTH or not _cro_checksum_ok(text[start:end]):
            continue
        if start > 0 and (text[start - 1] in _NUMBER_LEFT_STOP or text[start - 1].isalnum()):
            continue
        if _word_char_after(text, end) or scan.numeric_blocked(start, end):
            continue
        yield Candidate(RANK_CRO_CHECKSUM_ONLY, start, end, CRO)


_VISA, _SIXTEEN, _FIFTEEN = frozenset({13, 16, 19}), frozenset({16}), frozenset({15})
_16_TO_19, _14_TO_19, _12_TO_19 = (frozenset(range(low, 20)) for low in (16, 14, 12))
_NO_LENGTH: frozenset[int] = frozenset()


def _card_lengths(digits: str) -> frozenset[int]:
    """The card lengths the issuer of `digits` (six digits or more) uses, by the prefixes
    of the major schemes (Luhn is checked separately): the prefix is all that decides, so
    `cards` reads it once for every length it tries."""
    p1, p2, p3, p4, p6 = (int(digits[:k]) for k in (1, 2, 3, 4, 6))
    if p1 == 4:
        return _VISA
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return _SIXTEEN                               # Mastercard
    if p2 in (34, 37):
        return _FIFTEEN                               # Amex
    if p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925:
        return _16_TO_19                              # Discover
    if 3528 <= p4 <= 3589:
        return _16_TO_19                              # JCB
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):
        return _14_TO_19                              # Diners
    if p2 == 62:
        return _16_TO_19                              # UnionPay
    if p2 == 50 or 56 <= p2 <= 69:
        return _12_TO_19                              # Maestro
    if p1 == 1:
        return _FIFTEEN                               # UATP
    return _NO_LENGTH


_IBAN_COMPACT = str.maketrans("", "", " -.")
_IBAN_REGISTRY = numdb.get("iban")
_LAYOUT_PART_RE = re.compile(r"([1-9][0-9]*)!([nac])")
_LAYOUT_CHARS = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}
_IBAN_BASE10 = str.maketrans({letter: str(10 + index)
                              for index, letter in enumerate(string.ascii_uppercase)})


def iban_is_valid(value: str) -> bool:
    """`stdnum.iban.is_valid`, with the registry look-ups done once per country.

    The same three checks stdnum runs, from stdnum's own registry and country modules:
    ISO 7064 mod 97-10, the country's BBAN layout, the country's own check (Belgium,
    Spain …). stdnum looks the country up and compiles its layout on every call, ~100 µs,
    which made an IBAN post five times the cost of any other; a test holds the two equal.
    """
    compact = value.translate(_IBAN_COMPACT).upper()
    if not (compact.isascii() and compact.isalnum()) or len(compact) < 5:
        return std_iban.is_valid(value)  # odd input: stdnum's own answer
    if int((compact[4:] + compact[:4]).translate(_IBAN_BASE10)) % 97 != 1:
        return False
    layout, country_module = _country_layout(compact[:2])
    if layout is None or not layout.fullmatch(compact[4:]):
        return False
    if country_module is not None:
        try:
            country_module.validate(compact)
        except ValidationError:
            return False
    return True


@functools.cache
def _country_layout(country: str) -> tuple[re.Pattern[str] | None, Any]:
    """The BBAN layout of `country` as a regex ("1!a5!n5!n12!c" for Italy) and the
    country's own IBAN module, from stdnum's registry; (None, None) for no IBAN country."""
    properties = _IBAN_REGISTRY.info(country)[0][1]
    if not properties:
        return None, None
    layout = _LAYOUT_PART_RE.sub(
        lambda m: f"{_LAYOUT_CHARS[m.group(2)]}{{{m.group(1)}}}", properties.get("bban", ""))
    return re.compile(layout), get_cc_module(country.lower(), "iban")


def _cro_checksum_ok(digits: str) -> bool:
    """Seed 000: 11 digits; the last two are the first nine modulo 13."""
    return (
        len(digits) == CRO_LENGTH
        and digits.isdigit()
        and int(digits[:9]) % _CRO_MODULUS == int(digits[9:])
    )


def _trn_format_ok(value: str) -> bool:
    """30 upper-case alphanumerics, mostly digits (as Italian banks lay them out)."""
    return (
        len(value) == TRN_LENGTH
        and sum(ch.isdigit() for ch in value) >= TRN_MIN_DIGITS
    )


def _word_char_after(text: str, end: int) -> bool:
    return end < len(text) and (text[end].isalnum() or text[end] == "_")

