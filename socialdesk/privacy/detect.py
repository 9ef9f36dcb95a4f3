"""Find personal data in short public posts: the detector that runs every family.

Design (see PLATFORMS.md, "Personal data"): one cheap candidate pass with compiled
regexes, then check-digit validation by well-kept libraries on the candidates only
(`phonenumbers` for phones, `python-stdnum` for IBAN, codice fiscale, partita IVA and
Luhn). Each family of kinds lives in its own module: `phones`, `bank_numbers` (cards,
IBAN, CRO, TRN), `tax_codes`, `contact_details` (emails, postal addresses) and
`context_codes`; the words they look for are in `vocabulary`.

Precision comes from three things:

* validators: a digit run is a phone only if `phonenumbers` says it is valid in a
  configured region *and* it is written the way that region writes it;
* look-alike blocks (`lookalikes`): URLs, @handles, hashtags, dates, times, prices,
  versions, flight and train numbers, tracking numbers and product codes are found first,
  and numeric candidates that touch them are dropped;
* context: partita IVA, CRO, TRN and REFERENCE need a nearby word naming them (CRO also
  passes on its own mod-13 check), because their shapes collide with phone numbers.

Offsets are Python `str` indices (code points), so `text[e.start:e.end] == e.value`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import re2  # the brand patterns' engine, imported with the config that has them

from socialdesk.privacy.bank_numbers import (
    CARD_MIN_DIGITS,
    CRO_LENGTH,
    IBAN_MIN_DIGITS,
    TRN_MIN_DIGITS,
    bare_cro,
    bare_trn,
    cards,
    ibans,
)
from socialdesk.privacy.candidates import (
    ADDRESS,
    CARD,
    CRO,
    EMAIL,
    IBAN,
    IT_FISCAL_CODE,
    IT_VAT,
    PHONE,
    RANK_CUSTOM,
    REFERENCE,
    TRN,
    Candidate,
)
from socialdesk.privacy.contact_details import (
    addresses,
    emails,
    may_hold_email,
    normalise_address,
    postcodes,
    spelled_emails,
)
from socialdesk.privacy.context_codes import answered, asked_kinds, contextual
from socialdesk.privacy.lookalikes import TextScan
from socialdesk.privacy.phones import MIN_NATIONAL_DIGITS, PhoneFinder
from socialdesk.privacy.tax_codes import fiscal_codes, prefixed_vat
from socialdesk.privacy.trigger_words import find_triggers

CUSTOM_PREFIX = "CUSTOM:"

ENTITY_TYPES: tuple[str, ...] = (
    PHONE, EMAIL, IBAN, CARD, IT_FISCAL_CODE, IT_VAT, CRO, TRN, ADDRESS, REFERENCE,
)
DEFAULT_REGIONS: tuple[str, ...] = ("IT", "US", "GB")


@dataclass(frozen=True, slots=True)
class Entity:
    """One piece of personal data: `value == text[start:end]`."""

    type: str
    start: int
    end: int
    value: str


_DIGITS_RE = re.compile(r"\d+")
# One pass finds every run of digits with the separators phone and card numbers use;
# phones, cards and bare CROs are all read from these chunks. It starts with a digit, or
# a "+" or "(" right before one; written as one character set first, so the engine skips
# in C to the next such character instead of trying two alternatives at every letter.
_NUM_CHUNK_RE = re.compile(r"[\d+(](?!(?<=[+(])(?!\d))(?:[\d \-./()]*\d)?\)?")
_BLOCK_SIZE, _MIN_BLOCKS = 4, 3  # see `_block_layout`
# A chunk's digits, in order: the chunk without the separators it may hold.
_DROP_SEPARATORS = str.maketrans("", "", "+( -./)")
_ASCII_LETTERS = frozenset(string.ascii_letters)
_ASCII_UPPER = frozenset(string.ascii_uppercase)
# A codice fiscale without digits (every digit written as its omocodia letter) counts only
# in capitals (`tax_codes.fiscal_codes`), so it has six capitals and two omocodia capitals;
# written from its eighth letter so the engine skips to the few capitals of a post.
_CF_LETTERS_ONLY_RE = re.compile(r"[LMNPQRSTUV](?<=[A-Z]{6}[LMNPQRSTUV]{2})")
_CF_FIRST_DIGIT = 14  # the last of a codice fiscale's digit places ("RSSMRA45C12F205C")
_IBAN_FIRST_DIGIT = 3  # "IT 60": the country code and a space before the check digits


class Detector:
    """Finds personal data in a text; configure once, call `scan` per post.

    regions: phone regions tried, in order, for national-format numbers.
    custom_patterns: name -> regex; matches are reported as ``CUSTOM:<name>`` (a named
        group ``value`` narrows the span to the code).
    own_numbers / own_addresses: the brand's published contacts, never flagged.
    """

    def __init__(
        self,
        regions: Sequence[str] = DEFAULT_REGIONS,
        custom_patterns: Mapping[str, str] | None = None,
        own_numbers: Iterable[str] = (),
        own_addresses: Iterable[str] = (),
    ) -> None:
        self.regions = tuple(r.upper() for r in regions)
        self._phones = PhoneFinder(self.regions, own_numbers)
        self._custom = tuple(
            (f"{CUSTOM_PREFIX}{name}", self._compile_custom(name, pattern))
            for name, pattern in (custom_patterns or {}).items()
        )
        self._own_addresses = tuple(
            a for a in map(normalise_address, own_addresses) if a
        )

    # -- public -------------------------------------------------------------------------

    def scan(self, text: str, context: str | None = None) -> list[Entity]:
        """Entities in `text`, sorted by start, non-overlapping (higher rank, then longer wins).

        context: the brand's previous message in the thread, when there is one. If it asks
            for a code ("what is your order number?"), the first bare code of the reply
            ("it's 112-4563") is a REFERENCE even with no word naming it.
        """
        if not text:
            return []
        candidates = self._candidates(text, asked_kinds(context) if context else ())
        return [
            Entity(c.type, c.start, c.end, text[c.start:c.end]) for c in _resolve(candidates)
        ]

    @staticmethod
    def reads_context(context: str | None) -> bool:
        """Whether `scan(text, context)` may find other spans than `scan(text)`: only a brand
        message asking for a code changes what a reply holds. So spans found without the
        context (before the store knows the thread: `socialdesk.store.page_spans`) stand
        for every message but the replies to such a question."""
        return bool(context and asked_kinds(context))

    # -- candidate generation -----------------------------------------------------------

    def _candidates(self, text: str, asked: Collection[str]) -> list[Candidate]:
        """Every validated candidate, overlapping ones included.

        Each pass is called only when a cheap test on the text says it can find
        something (an "@", an "IT", enough digits, a street word): most posts need only
        a few of the passes, and an idle pass still costs a generator and a regex scan.
        """
        scan = TextScan(text)
        found: list[Candidate] = []
        if self._custom:
            found.extend(self._custom_matches(scan))
        if "@" in text and may_hold_email(text):
            found.extend(emails(scan))
        chunks, numeric, after_letter, after_country = _number_chunks(text)
        if _CF_LETTERS_ONLY_RE.search(text):
            found.extend(fiscal_codes(scan))
        elif after_letter >= 0:  # a code with digits starts at most 14 before its first one
            found.extend(fiscal_codes(scan, max(0, after_letter - _CF_FIRST_DIGIT)))
        words = find_triggers(scan, bool(chunks) or bool(asked))
        if chunks:
            iban_spans = (list(ibans(scan, max(0, after_country - _IBAN_FIRST_DIGIT)))
                          if after_country >= 0 and numeric >= IBAN_MIN_DIGITS else [])
            found.extend(iban_spans)
            if "IT" in text:
                found.extend(prefixed_vat(scan))
            for chunk, start, end in chunks:
                if end - start < MIN_NATIONAL_DIGITS:
                    continue  # too short for a phone, a card or a CRO
                if not iban_spans or not any(i.start <= start and end <= i.end for i in iban_spans):
                    found.extend(self._numbers(scan, chunk))
            if numeric >= TRN_MIN_DIGITS:
                found.extend(bare_trn(scan))
            if words.streets or words.english_street:
                found.extend(addresses(scan, words.streets, words.english_street,
                                       self._own_addresses))
            if words.postcodes:
                found.extend(postcodes(scan, words.postcodes))
        if words.spelled_ats:
            found.extend(spelled_emails(scan, words.spelled_ats))
        for kind, end in words.contexts:
            found.extend(contextual(scan, kind, end))
        if asked:
            found.extend(answered(scan, asked))
        return found

    def _custom_matches(self, scan: TextScan) -> Iterator[Candidate]:
        for type_, pattern in self._custom:
            value = pattern.groupindex.get("value")
            for match in pattern.finditer(scan.text):
                has_value = value is not None and match.group(value) is not None
                start, end = match.span(value) if has_value else match.span()
                if end > start and not scan.in_url_or_handle(start):
                    yield Candidate(RANK_CUSTOM, start, end, type_)

    def _numbers(self, scan: TextScan, chunk: re.Match[str]) -> Iterator[Candidate]:
        digits = chunk.group().translate(_DROP_SEPARATORS)
        total = len(digits)
        if total < MIN_NATIONAL_DIGITS and total < CARD_MIN_DIGITS:
            return
        groups = [m.span() for m in _DIGITS_RE.finditer(scan.text, chunk.start(), chunk.end())]
        if total >= CARD_MIN_DIGITS:
            yield from cards(scan, groups)
        if total >= CRO_LENGTH and any(end - start == CRO_LENGTH for start, end in groups):
            yield from bare_cro(scan, groups)
        if total < _BLOCK_SIZE * _MIN_BLOCKS or not _block_layout(groups):
            yield from self._phones.windows(scan, chunk, groups, digits)

    @staticmethod
    def _compile_custom(name: str, pattern: str) -> re2._Regexp:
        # imported here: the config models (pydantic) cost ~80 ms of start-up, and only a
        # detector with brand patterns needs their compiler
        from socialdesk.rules_config import compile_custom_pattern

        try:
            return compile_custom_pattern(name, pattern)
        except ValueError as error:
            raise ValueError(f"privacy custom {error}") from None


def _number_chunks(text: str) -> tuple[list[tuple[re.Match[str], int, int]], int, int, int]:
    """The number chunks of `text` with their spans, in one pass over them:
    (chunks, numeric characters, start of the first chunk right after a letter, start of
    the first one after a two-letter country code; -1 for none).

    The numeric characters (separators included) bound which codes can be present. The
    first digit of a codice fiscale follows a letter ("RSSMRA45…"), the check digits of an
    IBAN follow its country code ("IT60…", "IT 60…"); every digit lies in a chunk, and
    such a digit starts one. Without such a chunk the fiscal-code and IBAN regexes cannot
    match and are not run (they cost more than the rest of a plain post's scan); with
    one, they start reading a little before it.
    """
    chunks = []
    numeric = 0
    after_letter = after_country = -1
    for chunk in _NUM_CHUNK_RE.finditer(text):
        start, end = chunk.span()
        chunks.append((chunk, start, end))
        numeric += end - start
        if not start or (after_letter >= 0 and after_country >= 0):
            continue
        before = text[start - 1]
        if before in _ASCII_LETTERS:
            if after_letter < 0:
                after_letter = start
            if after_country < 0 and start > 1 and text[start - 2] in _ASCII_LETTERS:
                after_country = start
        elif after_country < 0 and before == " " and start > 2 and (
                text[start - 2] in _ASCII_UPPER and text[start - 3] in _ASCII_UPPER):
            after_country = start
    return chunks, numeric, after_letter, after_country


def _block_layout(groups: list[tuple[int, int]]) -> bool:
    """Three or more 4-digit blocks in a row ("4880 0766 2016 8781", "0034 9929 0191 …"):
    the layout of cards, IBANs, gift cards and tracking codes, never of a phone number, so
    no phone is read from a window inside it."""
    run = 0
    for index, (start, end) in enumerate(groups):
        adjacent = index and start - groups[index - 1][1] == 1
        run = (run + 1 if adjacent else 1) if end - start == _BLOCK_SIZE else 0
        if run >= _MIN_BLOCKS:
            return True
    return False


def _resolve(candidates: list[Candidate]) -> list[Candidate]:
    """Keep the best non-overlapping candidates: rank first, then length, then position.

    A post holds a handful of candidates, so a linear overlap test beats any index.
    """
    if len(candidates) < 2:
        return candidates
    candidates.sort(key=_priority)
    kept: list[Candidate] = []
    for candidate in candidates:
        start, end = candidate.start, candidate.end
        if not any(k.start < end and start < k.end for k in kept):
            kept.append(candidate)
    kept.sort(key=_start)
    return kept


def _priority(candidate: Candidate) -> tuple[int, int, int]:
    return (-candidate.rank, candidate.start - candidate.end, candidate.start)


def _start(candidate: Candidate) -> int:
    return candidate.start


_DEFAULT_DETECTOR: Detector | None = None


def default_detector() -> Detector:
    """A shared detector with the default regions and no brand configuration."""
    global _DEFAULT_DETECTOR
    if _DEFAULT_DETECTOR is None:
        _DEFAULT_DETECTOR = Detector()
    return _DEFAULT_DETECTOR


def detect(text: str) -> list[Entity]:
    """Personal data in `text` found by the default detector."""
    return default_detector().scan(text)
