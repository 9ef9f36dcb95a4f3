"""Mask personal data for queue lists, logs and CSV exports.

The rule (an acceptance property, tested with hypothesis): a masked value shows no
letter or digit of the value except

* the last two letters/digits, and only when the value has at least
  `MIN_ALNUM_FOR_TAIL` of them (a five-digit ticket number is hidden whole), and
* a type hint at the front that names a country, never the person: the `+<country code>`
  of an international phone number (``+39 *** *** **67``), the two-letter country of an
  IBAN (``IT** **** … *56``) and the ``IT`` of a prefixed partita IVA.

Separators (spaces, dashes, dots, ``@``) are kept so an operator can still tell a phone
from an IBAN at a glance. Addresses are hidden whole: their last characters (house
number, city) help no one and narrow the person down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol

import phonenumbers

MASK_CHAR = "*"
KEEP_LAST = 2
MIN_ALNUM_FOR_TAIL = 6
ADDRESS_MASK = "***"
_EMAIL_PART_MASK = MASK_CHAR * 3
_IBAN_COUNTRY_LEN = 2
_MIN_LEN_FOR_COUNTRY_HINT = 4
_COUNTRY_RE = re.compile(r"[A-Za-z]{2}")


class _Span(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


def visible_prefix(entity_type: str, value: str) -> str:
    """The country type hint kept at the front of a masked value ("" when none)."""
    if entity_type == "PHONE" and value.startswith("+"):
        code = _country_code(value)
        return f"+{code}" if code else "+"
    long_enough = len(value) > _MIN_LEN_FOR_COUNTRY_HINT
    if entity_type == "IBAN" and long_enough and _COUNTRY_RE.match(value):
        return value[:_IBAN_COUNTRY_LEN].upper()
    if entity_type == "IT_VAT" and long_enough and value[:2].upper() == "IT":
        return value[:2]
    return ""


def _country_code(international: str) -> str | None:
    """The calling code a `+` number starts with. E.164 codes are prefix-free, so the first
    1-3 digit prefix that is a code is the code; 70x cheaper than a full parse."""
    leading = re.match(r"\+(\d{1,3})", international)
    digits = leading.group(1) if leading else ""
    for length in range(1, len(digits) + 1):
        if int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[:length]
    return None


def mask_value(entity_type: str, value: str) -> str:
    """`value` with everything but the type hint and (at most) the last two characters hidden."""
    if entity_type == "EMAIL" and "@" in value:
        return _mask_email(value)
    if entity_type == "ADDRESS":
        return ADDRESS_MASK
    prefix = visible_prefix(entity_type, value)
    rest = value[_prefix_length(value, prefix):]
    return prefix + _mask_shape(rest, _tail_allowed(value))


def mask_text(text: str, entities: Iterable[_Span]) -> str:
    """`text` with every entity span replaced by its masked value.

    Overlapping spans are merged (the first one's type decides the mask), so a caller
    that combines several detectors still never leaks the overlap.
    """
    spans = _merge(
        (max(0, e.start), min(len(text), e.end), e.type) for e in entities if e.end > e.start
    )
    pieces: list[str] = []
    cursor = 0
    for start, end, entity_type in spans:
        pieces.append(text[cursor:start])
        pieces.append(mask_value(entity_type, text[start:end]))
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _merge(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    merged: list[tuple[int, int, str]] = []
    for start, end, entity_type in sorted(spans):
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2])
        else:
            merged.append((start, end, entity_type))
    return merged


def _prefix_length(value: str, prefix: str) -> int:
    """How many characters of `value` the (normalised) prefix stands for."""
    if not prefix:
        return 0
    wanted = prefix.replace(" ", "").upper()
    seen = ""
    for index, ch in enumerate(value):
        if ch != " ":
            seen += ch.upper()
        if seen == wanted:
            return index + 1
    return 0


def _tail_allowed(value: str) -> int:
    return KEEP_LAST if sum(ch.isalnum() for ch in value) >= MIN_ALNUM_FOR_TAIL else 0


def _mask_shape(rest: str, keep_last: int) -> str:
    """Hide every letter/digit except the last `keep_last`; keep separators."""
    out = list(rest)
    kept = 0
    for index in range(len(out) - 1, -1, -1):
        if not out[index].isalnum():
            continue
        if kept < keep_last:
            kept += 1
        else:
            out[index] = MASK_CHAR
    return "".join(out)


def _mask_email(value: str) -> str:
    """`***@***.it`: the structure of an address and the last two letters of its TLD."""
    domain = value.rpartition("@")[2]
    tld = domain.rpartition(".")[2] if "." in domain else ""
    return f"{_EMAIL_PART_MASK}@{_EMAIL_PART_MASK}.{_mask_shape(tld, _tail_allowed(value))}"


def mask_stored_spans(text: str, spans: Iterable[Sequence[Any]]) -> str:
    """`text` masked with the `[start, end, type]` offsets stored at ingest."""
    return mask_text(text, (_StoredSpan(int(s), int(e), str(t)) for s, e, t in spans))


class _StoredSpan(NamedTuple):
    start: int
    end: int
    type: str
