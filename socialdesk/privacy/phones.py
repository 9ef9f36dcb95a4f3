"""Phone numbers: which digit runs are a customer's phone in a configured region.

A digit run is a phone only if `phonenumbers` says it is valid in a configured region
*and* it is written the way that region writes it; numbers a business publishes (toll
free, premium rate, shared cost, UAN) and the brand's own numbers are not personal data.
`PhoneNumberMatcher` is never run over whole texts: it costs 50-90 µs per region per
post, more than the whole scan.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from socialdesk.privacy.candidates import PHONE, RANK, Candidate, digits_only
from socialdesk.privacy.lookalikes import TextScan

# Phone numbers: digit counts outside these bounds are never tried.
MIN_NATIONAL_DIGITS = 8       # shorter runs are prices, quantities, short codes
_MAX_NATIONAL_DIGITS = 12
_MIN_INTERNATIONAL_DIGITS = 8  # country code included
_MAX_INTERNATIONAL_DIGITS = 15  # E.164 maximum
_MAX_PHONE_GROUPS = 7          # "+33 1 42 68 53 00" has seven groups
# Numbers a business publishes for customers to call: not the customer's data.
_PUBLISHED_TYPES = frozenset({
    PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST, PhoneNumberType.UAN,
})
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
# Characters that, right before a number, make it part of a code: "FR8123", "ID-3471…",
# "#3471…", "/status/3471…". Lower-case letters may touch it ("call312 345 678").
_PHONE_LEFT_STOP = frozenset(string.ascii_uppercase + string.digits + "_+@#/\\-")

# Every number type, the commonest first: `_Region.is_valid` stops at the first type that
# fits, and a customer's number is nearly always a mobile or a landline (the order changes
# no answer, only how many patterns a valid number is tried against: 2 instead of 10).
_TYPE_DESCS = (
    "mobile", "fixed_line", "premium_rate", "toll_free", "shared_cost", "voip",
    "personal_number", "pager", "uan", "voicemail",
)
_LITERALS_RE = re.compile(r"\d+(?:\|\d+)*")
_PUBLISHED = "published"
_MOBILE = "mobile"
_OTHER = "other"


def _desc_pattern(desc: phonenumbers.PhoneNumberDesc | None) -> re.Pattern[str] | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return re.compile(desc.national_number_pattern)


def _type_desc(
    desc: phonenumbers.PhoneNumberDesc | None,
) -> tuple[frozenset[int], re.Pattern[str]] | None:
    """(possible lengths, pattern) of one number type, as phonenumbers matches it."""
    pattern = _desc_pattern(desc)
    if desc is None or pattern is None:
        return None
    return frozenset(desc.possible_length or ()), pattern


def _any_of(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One pattern that fits a whole string where any of `patterns` does: one call in
    place of one per pattern (a fullmatch of an alternation tries each branch to the end)."""
    sources = [f"(?:{pattern.pattern})" for pattern in patterns]
    return re.compile("|".join(sources)) if sources else None


@dataclass(frozen=True, slots=True)
class _Region:
    """One configured phone region: a cheap pre-check and the number kinds it publishes.

    Both come from the region's own phonenumbers metadata. The kind check uses the
    region's patterns directly because `number_type()` first resolves the region of the
    number, which for +1 walks every NANP territory (~100 µs per call).
    """

    region: str
    country_code: int
    simple_prefix: bool  # the trunk prefix is a plain string we can strip ourselves
    other_prefixes: tuple[str, ...]
    """Other literal prefixes the region strips when parsing (GB: "180020", text relay):
    a number starting with one goes through `phonenumbers.parse`."""
    national_prefix: str
    prefix_required: bool  # GB writes "020 …": a national number without its 0 is not one
    lengths: frozenset[int]
    pattern: re.Pattern[str]
    published: re.Pattern[str] | None
    """The number kinds a business publishes, as one pattern (any of them fits)."""
    mobile: re.Pattern[str] | None
    types: tuple[tuple[frozenset[int], re.Pattern[str]], ...]
    """Every number type's (lengths, pattern): a national number is valid when one matches."""

    @classmethod
    def for_region(cls, region: str) -> _Region:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if metadata is None or metadata.country_code is None or metadata.general_desc is None:
            raise ValueError(f"unknown phone region {region!r}")
        desc = metadata.general_desc
        prefix = metadata.national_prefix or ""
        example = phonenumbers.example_number(region)
        national = (
            digits_only(phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL))
            if example else ""
        )
        published = (metadata.toll_free, metadata.premium_rate, metadata.shared_cost, metadata.uan)
        parsing = metadata.national_prefix_for_parsing
        # "0|180020" (GB) is a choice of literal prefixes: the plain one we strip ourselves
        literals = tuple(parsing.split("|")) if parsing and _LITERALS_RE.fullmatch(parsing) else ()
        return cls(
            region=region,
            country_code=metadata.country_code,
            simple_prefix=metadata.national_prefix_transform_rule is None
            and (parsing in (None, prefix) or prefix in literals),
            other_prefixes=tuple(literal for literal in literals if literal != prefix),
            national_prefix=prefix,
            prefix_required=bool(prefix) and example is not None and national.startswith(prefix)
            and national[len(prefix):] == phonenumbers.national_significant_number(example),
            lengths=frozenset(desc.possible_length or ()),
            pattern=re.compile(desc.national_number_pattern or r"\d+"),
            published=_any_of(p for p in map(_desc_pattern, published) if p is not None),
            mobile=_desc_pattern(metadata.mobile),
            types=tuple(
                filter(None, (_type_desc(getattr(metadata, name)) for name in _TYPE_DESCS))
            ),
        )

    def national_numbers(self, digits: str) -> list[str]:
        """National significant numbers `digits` may stand for, by length and pattern."""
        has_prefix = bool(self.national_prefix) and digits.startswith(self.national_prefix)
        if self.prefix_required and not has_prefix:
            return []
        options = [digits[len(self.national_prefix):]] if has_prefix else []
        if not self.prefix_required:
            options.append(digits)
        return [nsn for nsn in options if self.possible(nsn)]

    def number(self, digits: str, nsn: str) -> phonenumbers.PhoneNumber | None:
        """The PhoneNumber for a national number written at home.

        For regions with a plain trunk prefix (IT, US, GB …) it is built directly, as
        `parse` would build it (leading zeros kept as phonenumbers does), saving ~25 µs
        per candidate; other regions go through `parse` and must come back with the
        same national number.
        """
        if self.needs_parse(digits):
            number = _parse(digits, self.region)
            if number is None or phonenumbers.national_significant_number(number) != nsn:
                return None
            return number
        number = phonenumbers.PhoneNumber(country_code=self.country_code, national_number=int(nsn))
        return _with_leading_zeros(number, nsn)

    def needs_parse(self, digits: str) -> bool:
        """Only `phonenumbers.parse` knows how this region strips the prefix of `digits`."""
        return not self.simple_prefix or digits.startswith(self.other_prefixes)

    def possible(self, nsn: str) -> bool:
        """A national significant number of a length and shape this region has."""
        return len(nsn) in self.lengths and self.pattern.fullmatch(nsn) is not None

    def is_valid(self, nsn: str) -> bool:
        """`phonenumbers.is_valid_number_for_region` for a national number of this region.

        Same rule as phonenumbers' `_number_type_helper` (the general pattern, checked by
        `national_numbers`, then any type whose lengths and pattern fit), without building
        a PhoneNumber and walking the metadata on every call.
        """
        size = len(nsn)
        return any(
            (not lengths or size in lengths) and pattern.fullmatch(nsn) is not None
            for lengths, pattern in self.types
        )

    def kind(self, nsn: str) -> str:
        if self.published is not None and self.published.fullmatch(nsn):
            return _PUBLISHED
        if self.mobile is not None and self.mobile.fullmatch(nsn):
            return _MOBILE
        return _OTHER


class PhoneFinder:
    """Personal phone numbers in digit chunks, for the configured regions and own numbers."""

    def __init__(self, regions: Sequence[str], own_numbers: Iterable[str]) -> None:
        self.regions = tuple(regions)
        self._regions = tuple(_Region.for_region(r) for r in self.regions)
        self._by_country_code = {r.country_code: r for r in reversed(self._regions)}
        self._own_numbers = frozenset(filter(None, map(self._e164, own_numbers)))

    def windows(
        self, scan: TextScan, chunk: re.Match[str], groups: list[tuple[int, int]], digits: str
    ) -> Iterator[Candidate]:
        """Phones among the digit `groups` of one number chunk; `digits` are the chunk's
        digits, the groups' text joined."""
        text = scan.text
        plus = text[chunk.start()] == "+"
        left_ok = chunk.start() == 0 or text[chunk.start() - 1] not in _PHONE_LEFT_STOP
        return self._phone_windows(scan, groups, digits, plus, left_ok, chunk.start())

    def _phone_windows(
        self,
        scan: TextScan,
        groups: list[tuple[int, int]],
        digits: str,
        plus: bool,
        left_ok: bool,
        chunk_start: int,
    ) -> Iterator[Candidate]:
        """Greedy left-to-right: the longest valid window of whole digit groups wins."""
        text = scan.text
        offsets = [0]  # offsets[k]: digits before group k, so a window's digits are a slice
        for start, end in groups:
            offsets.append(offsets[-1] + end - start)
        i = 0 if left_ok else 1
        while i < len(groups):
            if offsets[-1] - offsets[i] < MIN_NATIONAL_DIGITS:
                break  # too few digits left for any phone
            last = min(len(groups), i + _MAX_PHONE_GROUPS) - 1
            for j in range(last, i - 1, -1):
                size = offsets[j + 1] - offsets[i]
                if size < MIN_NATIONAL_DIGITS or size > _MAX_INTERNATIONAL_DIGITS + 2:
                    continue  # no reading, national or international, fits this many digits
                span = self._phone_window(
                    text, groups, i, j, plus, chunk_start, digits[offsets[i]:offsets[j + 1]]
                )
                if span and not scan.numeric_blocked(*span):
                    yield Candidate(RANK[PHONE], span[0], span[1], PHONE)
                    i = j
                    break
            i += 1

    def _phone_window(
        self,
        text: str,
        groups: list[tuple[int, int]],
        i: int,
        j: int,
        plus: bool,
        chunk_start: int,
        digits: str,
    ) -> tuple[int, int] | None:
        start, end = groups[i][0], groups[j][1]
        international = i == 0 and (plus or digits.startswith("00"))
        if international:
            digits = digits if plus else digits[2:]
            if not _MIN_INTERNATIONAL_DIGITS <= len(digits) <= _MAX_INTERNATIONAL_DIGITS:
                return None
            start = chunk_start
        elif not MIN_NATIONAL_DIGITS <= len(digits) <= _MAX_NATIONAL_DIGITS:
            return None
        elif start > 0 and text[start - 1] == "(":
            start -= 1
        if end < len(text) and text[end] == ")" and "(" in text[start:end]:
            end += 1
        if not self._is_personal_phone(digits, international):
            return None
        return start, end

    def _is_personal_phone(self, digits: str, international: bool) -> bool:
        """Valid somewhere we look, not the brand's, and not a number businesses publish.

        A mobile reading in any region wins ("347 123 4567" is an Italian mobile even
        though Britain would read it as a UAN); otherwise a toll-free, premium-rate,
        shared-cost or UAN reading ("0800 123 4567", "800 123 456") means not personal.
        """
        if international:
            number = _international_number(digits)
            if number is None:
                return False
            code = number.country_code or 0
            home = self._by_country_code.get(code)
            if home is not None and not self._own_numbers:
                # a configured region's own number: its metadata answers without
                # `is_valid_number`, which walks every territory of the code (+1: ~25)
                nsn = digits[len(str(code)):]
                if home.possible(nsn) and home.is_valid(nsn):
                    return home.kind(nsn) != _PUBLISHED
            if not phonenumbers.is_valid_number(number):
                return False
            if self._e164_of(number) in self._own_numbers:
                return False
            number_type = phonenumbers.number_type(number)
            return number_type in _MOBILE_TYPES or number_type not in _PUBLISHED_TYPES
        kinds = set()
        for region in self._regions:
            for nsn in region.national_numbers(digits):
                if not region.is_valid(nsn):
                    continue
                if self._own_numbers or region.needs_parse(digits):
                    number = region.number(digits, nsn)
                    if number is None or number.country_code != region.country_code:
                        continue
                    if self._own_numbers and self._e164_of(number) in self._own_numbers:
                        return False
                kind = region.kind(nsn)
                if kind == _MOBILE and not self._own_numbers:
                    return True  # nothing another region says can change the answer
                kinds.add(kind)
        if not kinds:
            return False
        return _MOBILE in kinds or _PUBLISHED not in kinds

    @staticmethod
    def _e164_of(number: phonenumbers.PhoneNumber) -> str:
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)

    def _e164(self, raw: str) -> str | None:
        """E.164 form of a configured own number, trying each region for national forms."""
        for region in (None, *self.regions):
            number = _parse(raw, region)
            if number is not None and phonenumbers.is_valid_number(number):
                return self._e164_of(number)
        return None


def _parse(raw: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except NumberParseException:
        return None


def _with_leading_zeros(number: phonenumbers.PhoneNumber, nsn: str) -> phonenumbers.PhoneNumber:
    """Record leading zeros the way `phonenumbers.parse` does (Italian numbers keep their 0)."""
    if len(nsn) > 1 and nsn[0] == "0":
        number.italian_leading_zero = True
        zeros = min(len(nsn) - len(nsn.lstrip("0")), len(nsn) - 1)
        if zeros != 1:
            number.number_of_leading_zeros = zeros
    return number


def _international_number(digits: str) -> phonenumbers.PhoneNumber | None:
    """`+<digits>` as a PhoneNumber; country codes are prefix-free, so the first hit is it."""
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            nsn = digits[size:]
            if not nsn:
                return None
            number = phonenumbers.PhoneNumber(country_code=code, national_number=int(nsn))
            return _with_leading_zeros(number, nsn)
    return None

