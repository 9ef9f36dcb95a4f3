"""Find personal data in short public posts.

Design (see PLATFORMS.md, "Personal data"): one cheap candidate pass with compiled
regexes, then check-digit validation by well-kept libraries on the candidates only
(`phonenumbers` for phones, `python-stdnum` for IBAN, codice fiscale, partita IVA and
Luhn). `PhoneNumberMatcher` is never run over whole texts: it costs 50-90 µs per region
per post, more than this whole scan.

Precision comes from three things:

* validators: a digit run is a phone only if `phonenumbers` says it is valid in a
  configured region *and* it is written the way that region writes it;
* look-alike blocks: URLs, @handles, hashtags, dates, times, prices, versions, flight and
  train numbers, tracking numbers and product codes are found first, and numeric
  candidates that touch them are dropped;
* context: partita IVA, CRO, TRN and REFERENCE need a nearby word naming them (CRO also
  passes on its own mod-13 check), because their shapes collide with phone numbers.

Offsets are Python `str` indices (code points), so `text[e.start:e.end] == e.value`.
"""

from __future__ import annotations

import re
import string
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import phonenumbers
import re2
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.it import codicefiscale, iva

from socialdesk.rules_config import compile_custom_pattern

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
CUSTOM_PREFIX = "CUSTOM:"

ENTITY_TYPES: tuple[str, ...] = (
    PHONE, EMAIL, IBAN, CARD, IT_FISCAL_CODE, IT_VAT, CRO, TRN, ADDRESS, REFERENCE,
)
DEFAULT_REGIONS: tuple[str, ...] = ("IT", "US", "GB")

# When two candidates overlap, the higher rank wins, then the longer span.
# Explicit brand patterns and strong check digits first; context-only types after.
_RANK = {
    IBAN: 90, CARD: 85, IT_FISCAL_CODE: 80, EMAIL: 75, TRN: 70, IT_VAT: 65,
    CRO: 60, REFERENCE: 55, PHONE: 50, ADDRESS: 40,
}
_RANK_CUSTOM = 100
_RANK_CRO_CHECKSUM_ONLY = 45  # a bare 11-digit run: a valid phone reading beats it

# Phone numbers: digit counts outside these bounds are never tried.
_MIN_NATIONAL_DIGITS = 8       # shorter runs are prices, quantities, short codes
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

# Context words: how far after the word a code may start, and how many filler words
# ("n.", "numero", "è", "is", "my") may sit in between.
_CONTEXT_REACH = 40
_MAX_FILLER_WORDS = 3
_MAX_CONTEXT_TOKENS = 6

_CRO_LENGTH = 11
_CRO_MODULUS = 13   # seed 000: last two digits = first nine mod 13
_TRN_LENGTH = 30
_TRN_MIN_DIGITS = 20  # a TRN without its name must be mostly digits (bank layouts are)
_REFERENCE_MIN_DIGITS_ONLY = 5
_REFERENCE_MIN_ALNUM = 5
_REFERENCE_MAX_LEN = 30
_PNR_LETTERS = (5, 8)  # booking codes may be letters only, but only after a booking word


@dataclass(frozen=True, slots=True)
class Entity:
    """One piece of personal data: `value == text[start:end]`."""

    type: str
    start: int
    end: int
    value: str


# --------------------------------------------------------------------------------------
# Look-alikes that are not personal data. Checked only around validated candidates, so a
# post with no candidate never pays for them.

# A token that is a URL or an @handle hides everything in it; a hashtag hides numbers.
_URL_TOKEN_RE = re.compile(
    r"[(\[<\"']*(?:https?://|www\.|(?:[a-z0-9-]+\.)+(?:com|it|net|org|eu|co|io|ly|me|uk|de|fr|es"
    r"|info|app|gl|be)/)[^\s<>\"']*",
    re.I,
)
_HANDLE_TOKEN_RE = re.compile(r"[(\[<\"']*[@#]\w+")
# Shapes that start with a digit, a currency sign or a capital: dates, times, prices,
# versions, flight numbers, postal tracking layouts. Lookbehinds sit after the first
# character so the regex engine can skip ahead on its first-character set.
_SHAPE_BLOCK_RE = re.compile(
    r"""
      \d(?<![\d.,/\-]\d)\d?[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?![\d/])     # 12/03/2025 21.6.1984
    | \d(?<![\d.,/\-]\d)\d{3}[./-]\d{1,2}[./-]\d{1,2}(?![\d/])           # 2025-10-11
    | \d(?<![\d.,/\-]\d)\d?/\d{2}(?![\d/])                                # 06/21
    | \d(?<!\d\d)\d?:\d{2}(?::\d{2})?(?!\d)                                # 10:30
    | [€$£]\s?\d[\d.,]*(?:,-)?                                          # € 1.299,00
    | \d(?<![\d.,]\d)[\d.,]*\s?(?:[€$£]|(?i:eur|euro|usd|dollari|dollars?|gbp|sterline|pounds?)\b)
    | [vV](?<!\w[vV])\d+(?:\.\d+)+\b                                     # v2.14.3
    | [A-Z0-9][A-Z0-9](?<!\w[A-Z0-9]{2})(?<!\d\d)\s?\d{1,4}[A-Z]?\b        # AZ 1234, FR8123
    | [A-Z]{2}(?<!\w[A-Z]{2})\d{9}[A-Z]{2}\b                               # RR123456789IT (S10)
    | 1Z(?<!\w1Z)[0-9A-Z]{16}\b                                          # UPS
    """,
    re.X,
)
_SHAPE_REACH = 24  # no shape above is longer: look this far around a candidate
# Shapes announced by a word: matched only where the word occurs.
_WORD_BLOCK_RE = re.compile(
    r"""
    (?i:
      (?:ios|ipados|android|windows|macos|versione|version|ver\.|firmware|build|release)
        \s?v?\d+(?:[.\-]\d+)*\b
    | (?:volo|voli|flight|treno|train|frecciarossa|frecciargento|frecciabianca|italo|intercity
        |regionale|eurostar|gate|posto|seat|carrozza|coach)
        \s*(?:n\.|nr\.?|no\.?|n°|\#)?\s*[A-Z]{0,3}\s?\d{1,5}[A-Z]?\b
    | (?:tracking|track|spedizione|tracciamento|ldv|awb|sku|articolo|art\.|modello|model
        |seriale|serial|s/n|imei|lotto|batch|ean|asin|isbn|cod(?:ice)?\.?\s*(?:articolo|prodotto)
        |product\s+code|part\s+(?:number|no\.?))
        (?:\s*(?:n\.|nr\.?|no\.?|n°|number|numero|code|codice|è|is|:|\#))*\s*
        [A-Za-z0-9][A-Za-z0-9\-]{3,39}
    | (?:eur|usd|gbp)\s?\d[\d.,]*
    | (?:ore|alle|h|at)\s?\d{1,2}[.:]\d{2}(?!\d)
    )
    """,
    re.X,
)
_BLOCK_TRIGGERS = frozenset({
    "ios", "ipados", "android", "windows", "macos", "versione", "version", "ver", "firmware",
    "build", "release", "volo", "voli", "flight", "treno", "train", "frecciarossa",
    "frecciargento", "frecciabianca", "italo", "intercity", "regionale", "eurostar", "gate",
    "posto", "seat", "carrozza", "coach", "tracking", "track", "spedizione", "tracciamento",
    "ldv", "awb", "sku", "articolo", "art", "modello", "model", "seriale", "serial", "s",
    "imei", "lotto", "batch", "ean", "asin", "isbn", "cod", "codice", "product", "part",
    "eur", "usd", "gbp", "ore", "alle", "h", "at",
})


class _Spans:
    """Sorted, non-overlapping spans with a fast overlap test."""

    __slots__ = ("_starts", "_ends")

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        self._starts = [s for s, _ in merged]
        self._ends = [e for _, e in merged]

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect_left(self._starts, end) - 1
        return index >= 0 and self._ends[index] > start


class _Scan:
    """Per-text state: where the look-alikes are, computed on demand."""

    __slots__ = ("text", "word_blocks")

    def __init__(self, text: str) -> None:
        self.text = text
        self.word_blocks: list[tuple[int, int]] = []

    def in_url_or_handle(self, start: int) -> bool:
        """True when `start` lies inside a URL or an @handle (hides every type)."""
        return self._token_cover(start, "@") or self._url_cover(start)

    def in_hashtag(self, start: int) -> bool:
        return self._token_cover(start, "#")

    def shape_blocked(self, start: int, end: int) -> bool:
        """Overlaps a date, time, price, version, flight/train or tracking number."""
        if any(s < end and start < e for s, e in self.word_blocks):
            return True
        window = _SHAPE_BLOCK_RE.finditer(
            self.text, max(0, start - _SHAPE_REACH), min(len(self.text), end + _SHAPE_REACH)
        )
        return any(m.start() < end and start < m.end() for m in window)

    def numeric_blocked(self, start: int, end: int) -> bool:
        return (
            self.in_url_or_handle(start) or self.in_hashtag(start)
            or self.shape_blocked(start, end)
        )

    def _token_start(self, pos: int) -> int:
        text = self.text
        while pos > 0 and not text[pos - 1].isspace():
            pos -= 1
        return pos

    def _token_cover(self, start: int, sigil: str) -> bool:
        token = self._token_start(start)
        if sigil not in self.text[token:start + 1]:
            return False
        match = _HANDLE_TOKEN_RE.match(self.text, token)
        return match is not None and sigil in match.group() and start < match.end()

    def _url_cover(self, start: int) -> bool:
        token = self._token_start(start)
        if token == start and "/" not in self.text[start:start + 12]:
            return False
        match = _URL_TOKEN_RE.match(self.text, token)
        return match is not None and start < match.end()


# --------------------------------------------------------------------------------------
# Candidate patterns.

_DIGITS_RE = re.compile(r"\d+")
_WORD_RE = re.compile(r"[^\W\d_]+")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# One pass finds every run of digits with the separators phone and card numbers use;
# phones, cards and bare CROs are all read from these chunks.
_NUM_CHUNK_RE = re.compile(r"[+(]?\d(?:[\d \-./()]*\d)?\)?")
# Characters that, right before a number, make it part of a code: "FR8123", "ID-3471…",
# "#3471…", "/status/3471…". Lower-case letters may touch it ("call312 345 678").
_PHONE_LEFT_STOP = frozenset(string.ascii_uppercase + string.digits + "_+@#/\\-")
_CARD_SEPARATORS = frozenset({" ", "-"})
_CARD_MIN_DIGITS, _CARD_MAX_DIGITS = 12, 19
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
_IBAN_MIN_DIGITS = 8  # check digits + a numeric account part: no registry layout has fewer
_IBAN_CHUNK_END_RE = re.compile(r"[A-Za-z0-9](?![A-Za-z0-9])")
_OMOCODE = "0-9LMNPQRSTUVlmnpqrstuv"
# The lookbehind comes first: it fails at once inside words, before six letters are read.
_CF_RE = re.compile(
    rf"(?<![A-Za-z0-9])[A-Za-z]{{6}}[{_OMOCODE}]{{2}}[A-EHLMPRSTa-ehlmprst]"
    rf"[{_OMOCODE}]{{2}}[A-Za-z][{_OMOCODE}]{{3}}[A-Za-z](?![A-Za-z0-9])"
)
_VAT_PREFIXED_RE = re.compile(r"IT(?<![A-Za-z0-9]IT)\s?[:\-]?\s?\d(?: ?\d){10}(?!\d)")
_VAT_CODE_AT_RE = re.compile(r"(?:IT\s?[:\-]?\s?)?\d(?: ?\d){10}(?!\d)")
_CF_CODE_AT_RE = re.compile(r"[A-Za-z0-9]{16}(?![A-Za-z0-9])|\d{11}(?!\d)")
_CRO_CODE_AT_RE = re.compile(rf"\d{{{_CRO_LENGTH}}}(?!\d)")
_TRN_CODE_AT_RE = re.compile(rf"[A-Za-z0-9]{{{_TRN_LENGTH}}}(?![A-Za-z0-9])")
_TRN_BARE_RE = re.compile(
    rf"[A-Z0-9]{{{_TRN_LENGTH}}}(?<![A-Za-z0-9][A-Z0-9]{{{_TRN_LENGTH}}})(?![A-Za-z0-9])"
)
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9](?<![\w.+\-][A-Za-z0-9])[A-Za-z0-9._%+\-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9\-]{2,59})(?![\w\-])"
)
_EMAIL_LOCAL_CHARS = frozenset(string.ascii_letters + string.digits + "._%+-")

_CONTEXT_RE = re.compile(
    r"""
      (?P<vat>\bp\.\s?iva\b|\bp\s?iva\b|\bpartita\s+iva\b|\bvat\b)
    | (?P<cf>\bcodice\s+fiscale\b|\bc\.\s?f\.|\bcf\b|\b(?:tax|fiscal)\s+code\b)
    | (?P<cro>\bc\.?r\.?o\.?(?![a-z])
        |\bcodice\s+(?:di\s+)?riferimento\s+(?:dell['’]\s?)?operazione\b)
    | (?P<trn>\bt\.?r\.?n\.?(?![a-z])|\btransaction\s+reference(?:\s+number)?\b)
    | (?P<booking>\b(?:prenotazione|booking|reservation|pnr|confirmation)\b)
    | (?P<ref>\b(?:ordine|ordinazione|pratica|segnalazione|reclamo|ticket|richiesta|contratto
        |codice\s+cliente|numero\s+cliente|cod\.\s?cliente|id\s+cliente|utenza|codice\s+utente
        |conto|transazione|bagaglio|baggage|luggage|order|case|claim|account|acct|customer\s+(?:id|number|no|code)
        |member(?:ship)?\s+(?:number|no|id)|transaction|complaint|request|reference|ref)\b)
    """,
    re.X | re.I,
)
_CONTEXT_TRIGGERS = frozenset({
    "p", "piva", "partita", "vat", "codice", "c", "cf", "tax", "fiscal", "cro", "t", "trn",
    "transaction", "prenotazione", "booking", "reservation", "pnr", "confirmation", "ordine",
    "ordinazione", "pratica", "segnalazione", "reclamo", "ticket", "richiesta", "contratto",
    "numero", "cod", "id", "utenza", "conto", "transazione", "order", "case", "claim",
    "account", "acct", "bagaglio", "baggage", "luggage", "customer", "member", "membership",
    "complaint", "request",
    "reference", "ref",
})
_BOOKING_TRIGGERS = frozenset({"prenotazione", "booking", "reservation", "pnr", "confirmation"})
_BOOKING_HINTS = ("prenot", "book", "reserv", "pnr", "confirm")
_STREET_IT_TRIGGERS = frozenset({
    "via", "viale", "v", "piazza", "p", "piazzale", "corso", "c", "largo", "strada", "vicolo",
    "contrada", "borgo", "lungomare", "lungotevere", "località", "loc",
})
_STREET_EN_TRIGGERS = frozenset({
    "street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr", "boulevard",
    "blvd", "way", "close", "court", "ct", "place", "pl", "terrace", "crescent", "square", "sq",
})
_ALL_TRIGGERS = _CONTEXT_TRIGGERS | _STREET_IT_TRIGGERS | _BLOCK_TRIGGERS
_TOKEN_RE = re.compile(r"\S+")
# Leading decorations of a code token: "#0123456", "n.4471203", "n°4471203", "(QX7P2L".
_CODE_PREFIX_RE = re.compile(r"(?:[#:(\[«\"'=]|n[°º.]|nr\.|no\.)*", re.I)
_CODE_TRAIL = ".,;:!?)]»\"'"
# Words that end a context walk: the code that follows is not personal data.
_STOP_WORDS = frozenset({
    "tracking", "spedizione", "volo", "flight", "treno", "train", "sku", "articolo",
    "prodotto", "product", "modello", "model", "prezzo", "price", "importo", "amount",
    "totale", "total", "data", "date", "ore", "alle", "versione", "version",
})
_REFERENCE_CODE_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-/_]*[A-Za-z0-9])?")
_YEAR_RE = re.compile(r"(?:19|20)\d\d")
_FLIGHT_SHAPE_RE = re.compile(r"(?:[A-Z]{2}|[A-Z]\d|\d[A-Z])\d{1,4}[A-Z]?")

# Postal addresses. Italian: street word + name + house number, optional CAP + city.
_NAME_WORD = r"[A-ZÀ-Þ][\w'’À-ÿ.]*"
_PARTICLE = r"(?:de[il]?|dell[aeo]|degli|delle|della|di|d['’]|e|san|santa|sant['’]|s\.)"
_ADDRESS_IT_RE = re.compile(
    rf"""
    (?i:\b(?:via|viale|v\.le|piazza|p\.zza|piazzale|corso|c\.so|largo|strada|vicolo|contrada
        |borgo|lungomare|lungotevere|località|loc\.))\s+
    (?P<name>(?:{_PARTICLE}\s*)?{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s*)?{_NAME_WORD}){{0,4}})
    \s*,?\s*(?:n\.\s*|n°\s*|nr\.?\s*|civico\s+)?
    (?P<number>\d{{1,4}}(?:\s?/\s?[A-Za-z0-9]{{1,3}}|[A-Za-z](?![\w]))?)(?![\d\w])
    (?!\s*(?i:volte|times|giorni|days|ore|hours|minuti|minutes|mesi|months|settimane|weeks
        |anni|years|euro|€|%|pezzi|items))
    (?P<tail>\s*,?\s*\d{{5}}\s+{_NAME_WORD}(?:\s+{_NAME_WORD})?(?:\s*\(?[A-Z]{{2}}\)?)?)?
    """,
    re.X,
)
# English: house number + name + street word, optional city, state + ZIP or UK postcode.
_ADDRESS_EN_RE = re.compile(
    r"""
    (?<![\w.,/])\d{1,5}[A-Za-z]?\s+
    (?:
      (?P<name>(?:[A-Z][\w'’]*\s+){1,3})
      (?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Close|Court|Ct
        |Place|Pl|Terrace|Crescent|Square|Sq)\b\.?
    | (?:St\.?|Saint)\s+[A-Z][\w'’]+(?:\s+[A-Z][\w'’]+){0,2}   # 30 St Mary Axe
    )
    (?P<tail>(?:,?\s*(?:Apt|Flat|Unit|Suite)\.?\s*\w+)?
      (?:,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)?
      (?:,?\s*(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}))?)
    """,
    re.X,
)
# Capitalised words after "via" that name a channel, not a street ("via Facebook 3 volte").
_ADDRESS_NAME_STOP = frozenset({
    "facebook", "messenger", "twitter", "instagram", "whatsapp", "telegram", "email", "mail",
    "e-mail", "pec", "app", "chat", "sms", "dm", "internet", "web", "google", "amazon",
    "paypal", "telefono", "phone", "x", "posta", "fax", "skype", "teams", "zoom", "the",
})


@dataclass(frozen=True, slots=True)
class _Candidate:
    rank: int
    start: int
    end: int
    type: str


_TYPE_DESCS = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail", "fixed_line", "mobile",
)
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
    national_prefix: str
    prefix_required: bool  # GB writes "020 …": a national number without its 0 is not one
    lengths: frozenset[int]
    pattern: re.Pattern[str]
    published: tuple[re.Pattern[str], ...]
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
            _digits(phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL))
            if example else ""
        )
        published = (metadata.toll_free, metadata.premium_rate, metadata.shared_cost, metadata.uan)
        return cls(
            region=region,
            country_code=metadata.country_code,
            simple_prefix=metadata.national_prefix_for_parsing in (None, prefix),
            national_prefix=prefix,
            prefix_required=bool(prefix) and example is not None and national.startswith(prefix)
            and national[len(prefix):] == phonenumbers.national_significant_number(example),
            lengths=frozenset(desc.possible_length or ()),
            pattern=re.compile(desc.national_number_pattern or r"\d+"),
            published=tuple(p for p in map(_desc_pattern, published) if p is not None),
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
        return [nsn for nsn in options if len(nsn) in self.lengths and self.pattern.fullmatch(nsn)]

    def number(self, digits: str, nsn: str) -> phonenumbers.PhoneNumber | None:
        """The PhoneNumber for a national number written at home.

        For regions with a plain trunk prefix (IT, US, GB …) it is built directly, as
        `parse` would build it (leading zeros kept as phonenumbers does), saving ~25 µs
        per candidate; other regions go through `parse` and must come back with the
        same national number.
        """
        if not self.simple_prefix:
            number = _parse(digits, self.region)
            if number is None or phonenumbers.national_significant_number(number) != nsn:
                return None
            return number
        number = phonenumbers.PhoneNumber(country_code=self.country_code, national_number=int(nsn))
        return _with_leading_zeros(number, nsn)

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
        if any(p.fullmatch(nsn) for p in self.published):
            return _PUBLISHED
        if self.mobile is not None and self.mobile.fullmatch(nsn):
            return _MOBILE
        return _OTHER


def _digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


def _normalise_address(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


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
        self._regions = tuple(_Region.for_region(r) for r in self.regions)
        self._custom = tuple(
            (f"{CUSTOM_PREFIX}{name}", self._compile_custom(name, pattern))
            for name, pattern in (custom_patterns or {}).items()
        )
        self._own_numbers = frozenset(filter(None, map(self._e164, own_numbers)))
        self._own_addresses = tuple(
            a for a in map(_normalise_address, own_addresses) if a
        )

    # -- public -------------------------------------------------------------------------

    def scan(self, text: str) -> list[Entity]:
        """Entities in `text`, sorted by start, non-overlapping (higher rank, then longer wins)."""
        if not text:
            return []
        candidates = self._candidates(text)
        return [
            Entity(c.type, c.start, c.end, text[c.start:c.end]) for c in _resolve(candidates)
        ]

    # -- candidate generation -----------------------------------------------------------

    def _candidates(self, text: str) -> list[_Candidate]:
        """Every validated candidate, overlapping ones included.

        Each pass is called only when a cheap test on the text says it can find
        something (an "@", an "IT", enough digits, a street word): most posts need only
        a few of the passes, and an idle pass still costs a generator and a regex scan.
        """
        scan = _Scan(text)
        found: list[_Candidate] = []
        if self._custom:
            found.extend(self._custom_matches(scan))
        if "@" in text:
            found.extend(self._emails(scan))
        found.extend(self._fiscal_codes(scan))
        chunks = [(chunk, *chunk.span()) for chunk in _NUM_CHUNK_RE.finditer(text)]
        contexts, streets, english_street = self._triggers(scan, bool(chunks))
        if chunks:
            # numeric characters (separators included) bound which codes can be present
            numeric = sum(end - start for _, start, end in chunks)
            ibans = list(self._ibans(scan)) if numeric >= _IBAN_MIN_DIGITS else []
            found.extend(ibans)
            if "IT" in text:
                found.extend(self._prefixed_vat(scan))
            for chunk, start, end in chunks:
                if end - start < _MIN_NATIONAL_DIGITS:
                    continue  # too short for a phone, a card or a CRO
                if not ibans or not any(i.start <= start and end <= i.end for i in ibans):
                    found.extend(self._numbers(scan, chunk))
            if numeric >= _TRN_MIN_DIGITS:
                found.extend(self._bare_trn(scan))
            if streets or english_street:
                found.extend(self._addresses(scan, streets, english_street))
        for kind, end in contexts:
            found.extend(self._contextual(scan, kind, end))
        return found

    def _triggers(
        self, scan: _Scan, has_digits: bool
    ) -> tuple[list[tuple[str, int]], list[int], bool]:
        """One word pass: context words, street words and look-alike announcements.

        Returns (context kind, end of the context word) pairs, the start of each Italian
        street word, and whether an English street type occurs; fills `scan.word_blocks`.
        """
        text = scan.text
        lowered = text.lower()
        if len(lowered) != len(text):  # "İ" lower-cases to two code points
            lowered = text.translate(_ASCII_LOWER)
        if not has_digits:  # a letters-only booking code is all that can follow a word
            if not any(hint in lowered for hint in _BOOKING_HINTS):
                return [], [], False
            words = set(_WORD_RE.findall(lowered)) & _BOOKING_TRIGGERS
        else:
            words = set(_WORD_RE.findall(lowered))
        contexts: list[tuple[str, int]] = []
        streets: list[int] = []
        for word in words & _ALL_TRIGGERS:
            for start in _word_positions(lowered, word):
                if word in _CONTEXT_TRIGGERS:
                    match = _CONTEXT_RE.match(text, start)
                    if match and match.lastgroup:
                        contexts.append((match.lastgroup, match.end()))
                if word in _STREET_IT_TRIGGERS:
                    streets.append(start)
                if word in _BLOCK_TRIGGERS:
                    block = _WORD_BLOCK_RE.match(text, start)
                    if block:
                        scan.word_blocks.append(block.span())
        return contexts, streets, not words.isdisjoint(_STREET_EN_TRIGGERS)

    def _custom_matches(self, scan: _Scan) -> Iterator[_Candidate]:
        for type_, pattern in self._custom:
            value = pattern.groupindex.get("value")
            for match in pattern.finditer(scan.text):
                has_value = value is not None and match.group(value) is not None
                start, end = match.span(value) if has_value else match.span()
                if end > start and not scan.in_url_or_handle(start):
                    yield _Candidate(_RANK_CUSTOM, start, end, type_)

    def _emails(self, scan: _Scan) -> Iterator[_Candidate]:
        text = scan.text
        at = text.find("@")
        while at == 0 or (at > 0 and text[at - 1] not in _EMAIL_LOCAL_CHARS):  # "@handle"
            at = text.find("@", at + 1)
        if at < 0:
            return
        for match in _EMAIL_RE.finditer(text):
            if not scan.in_url_or_handle(match.start()):
                yield _Candidate(_RANK[EMAIL], *match.span(), EMAIL)

    def _fiscal_codes(self, scan: _Scan) -> Iterator[_Candidate]:
        for match in _CF_RE.finditer(scan.text):
            value = match.group()
            # an all-letter (fully omocode) code must be upper case: lower-case words are prose
            if value.isalpha() and not value.isupper():
                continue
            if codicefiscale.is_valid(value) and not scan.in_url_or_handle(match.start()):
                yield _Candidate(_RANK[IT_FISCAL_CODE], *match.span(), IT_FISCAL_CODE)

    def _ibans(self, scan: _Scan) -> Iterator[_Candidate]:
        text = scan.text
        match = _IBAN_CAND_RE.search(text)
        while match is not None:
            start = match.start()
            resume = start + 1
            ends = [m.end() for m in _IBAN_CHUNK_END_RE.finditer(text, start, match.end())]
            for end in reversed(ends):  # longest valid prefix ending at a chunk boundary
                size = sum(ch.isalnum() for ch in text[start:end])
                if not _IBAN_MIN_LENGTH <= size <= _IBAN_MAX_LENGTH:
                    continue
                value = text[start:end]
                if _iban_checksum_ok(value) and std_iban.is_valid(value):
                    if not scan.in_url_or_handle(start):
                        yield _Candidate(_RANK[IBAN], start, end, IBAN)
                    resume = end  # the candidate may run on into a second IBAN
                    break
            match = _IBAN_CAND_RE.search(text, resume)

    def _prefixed_vat(self, scan: _Scan) -> Iterator[_Candidate]:
        """EU VAT layout `IT 01234567890`: the country prefix is the context word."""
        if "IT" not in scan.text:
            return
        for match in _VAT_PREFIXED_RE.finditer(scan.text):
            if iva.is_valid(_digits(match.group())) and not scan.in_url_or_handle(match.start()):
                yield _Candidate(_RANK[IT_VAT], *match.span(), IT_VAT)

    def _bare_trn(self, scan: _Scan) -> Iterator[_Candidate]:
        for match in _TRN_BARE_RE.finditer(scan.text):
            if _trn_format_ok(match.group()) and not scan.in_url_or_handle(match.start()):
                yield _Candidate(_RANK[TRN], *match.span(), TRN)

    # -- numbers: phones, cards, bare CROs ----------------------------------------------

    def _numbers(self, scan: _Scan, chunk: re.Match[str]) -> Iterator[_Candidate]:
        text = scan.text
        groups = [m.span() for m in _DIGITS_RE.finditer(text, chunk.start(), chunk.end())]
        total = sum(e - s for s, e in groups)
        if total < _MIN_NATIONAL_DIGITS and total < _CARD_MIN_DIGITS:
            return
        if total >= _CARD_MIN_DIGITS:
            yield from self._cards(scan, groups)
        if any(end - start == _CRO_LENGTH for start, end in groups):
            yield from self._bare_cro(scan, groups)
        plus = text[chunk.start()] == "+"
        left_ok = chunk.start() == 0 or text[chunk.start() - 1] not in _PHONE_LEFT_STOP
        yield from self._phone_windows(scan, groups, plus, left_ok, chunk.start())

    def _cards(self, scan: _Scan, groups: list[tuple[int, int]]) -> Iterator[_Candidate]:
        """Greedy: the longest run of groups joined by single spaces/dashes that is a card."""
        text = scan.text
        i = 0
        while i < len(groups):
            if groups[i][0] > 0 and text[groups[i][0] - 1] in _NUMBER_LEFT_STOP:
                i += 1
                continue
            found = None
            digits = ""
            for j in range(i, len(groups)):
                if j > i and text[groups[j - 1][1]:groups[j][0]] not in _CARD_SEPARATORS:
                    break
                digits += text[groups[j][0]:groups[j][1]]
                if len(digits) > _CARD_MAX_DIGITS:
                    break
                if len(digits) >= _CARD_MIN_DIGITS and _plausible_card(digits):
                    if luhn.is_valid(digits):
                        found = j
            if found is None or _word_char_after(text, groups[found][1]):
                i += 1
                continue
            start, end = groups[i][0], groups[found][1]
            if not scan.in_url_or_handle(start):
                yield _Candidate(_RANK[CARD], start, end, CARD)
            i = found + 1

    def _bare_cro(self, scan: _Scan, groups: list[tuple[int, int]]) -> Iterator[_Candidate]:
        text = scan.text
        for start, end in groups:
            if end - start != _CRO_LENGTH or not _cro_checksum_ok(text[start:end]):
                continue
            if start > 0 and (text[start - 1] in _NUMBER_LEFT_STOP or text[start - 1].isalnum()):
                continue
            if _word_char_after(text, end) or scan.numeric_blocked(start, end):
                continue
            yield _Candidate(_RANK_CRO_CHECKSUM_ONLY, start, end, CRO)

    def _phone_windows(
        self,
        scan: _Scan,
        groups: list[tuple[int, int]],
        plus: bool,
        left_ok: bool,
        chunk_start: int,
    ) -> Iterator[_Candidate]:
        """Greedy left-to-right: the longest valid window of whole digit groups wins."""
        text = scan.text
        digits = "".join(text[s:e] for s, e in groups)
        offsets = [0]  # offsets[k]: digits before group k, so a window's digits are a slice
        for start, end in groups:
            offsets.append(offsets[-1] + end - start)
        i = 0 if left_ok else 1
        while i < len(groups):
            if offsets[-1] - offsets[i] < _MIN_NATIONAL_DIGITS:
                break  # too few digits left for any phone
            last = min(len(groups), i + _MAX_PHONE_GROUPS) - 1
            for j in range(last, i - 1, -1):
                size = offsets[j + 1] - offsets[i]
                if size < _MIN_NATIONAL_DIGITS or size > _MAX_INTERNATIONAL_DIGITS + 2:
                    continue  # no reading, national or international, fits this many digits
                span = self._phone_window(
                    text, groups, i, j, plus, chunk_start, digits[offsets[i]:offsets[j + 1]]
                )
                if span and not scan.numeric_blocked(*span):
                    yield _Candidate(_RANK[PHONE], span[0], span[1], PHONE)
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
        elif not _MIN_NATIONAL_DIGITS <= len(digits) <= _MAX_NATIONAL_DIGITS:
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
            if number is None or not phonenumbers.is_valid_number(number):
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
                if not region.simple_prefix or self._own_numbers:
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

    # -- context-named codes ------------------------------------------------------------

    def _contextual(self, scan: _Scan, kind: str, end: int) -> Iterator[_Candidate]:
        """The code a context word names; hashtags do not block it ("order #A12345")."""
        for token_start, core in _context_tokens(scan.text, end):
            found = _context_code(kind, scan, token_start, core)
            if found is None:
                continue
            if isinstance(found, _Candidate) and not scan.in_url_or_handle(found.start):
                yield found
            return

    # -- addresses ----------------------------------------------------------------------

    def _addresses(self, scan: _Scan, streets: list[int], english: bool) -> Iterator[_Candidate]:
        text = scan.text
        matches = [m for m in (_ADDRESS_IT_RE.match(text, s) for s in streets) if m]
        if english:
            matches.extend(_ADDRESS_EN_RE.finditer(text))
        for match in matches:
            name = match.group("name") or "St"
            first_name_word = name.split()[0].casefold().strip(".,")
            if first_name_word in _ADDRESS_NAME_STOP:
                continue
            start, end = match.start(), match.end()
            while end > start and text[end - 1] in " ,":
                end -= 1
            if scan.in_url_or_handle(start) or self._is_own_address(text[start:end]):
                continue
            yield _Candidate(_RANK[ADDRESS], start, end, ADDRESS)

    def _is_own_address(self, value: str) -> bool:
        found = _normalise_address(value)
        return any(own in found or found in own for own in self._own_addresses)

    @staticmethod
    def _compile_custom(name: str, pattern: str) -> re2._Regexp:
        try:
            return compile_custom_pattern(name, pattern)
        except ValueError as error:
            raise ValueError(f"privacy custom {error}") from None


# --------------------------------------------------------------------------------------
# Helpers.


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


def _plausible_card(digits: str) -> bool:
    """Issuer prefix and length of the major schemes (Luhn is checked separately)."""
    n = len(digits)
    if n < 12 or n > 19:
        return False
    p1, p2, p3, p4, p6 = (int(digits[:k]) for k in (1, 2, 3, 4, 6))
    if p1 == 4:
        return n in (13, 16, 19)                      # Visa
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16                                # Mastercard
    if p2 in (34, 37):
        return n == 15                                # Amex
    if p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925:
        return 16 <= n <= 19                          # Discover
    if 3528 <= p4 <= 3589:
        return 16 <= n <= 19                          # JCB
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):
        return 14 <= n <= 19                          # Diners
    if p2 == 62:
        return 16 <= n <= 19                          # UnionPay
    if p2 == 50 or 56 <= p2 <= 69:
        return 12 <= n <= 19                          # Maestro
    if p1 == 1:
        return n == 15                                # UATP
    return False


_IBAN_COMPACT = str.maketrans("", "", " -.")
_IBAN_BASE10 = str.maketrans({letter: str(10 + index)
                              for index, letter in enumerate(string.ascii_uppercase)})


def _iban_checksum_ok(value: str) -> bool:
    """ISO 7064 mod 97-10, the check `stdnum.iban` runs first: a cheap early no.

    Most IBAN-shaped candidates fail here; only the ones that pass pay for stdnum's
    registry lookup and country format, which still decide.
    """
    compact = value.translate(_IBAN_COMPACT).upper()
    if not (compact.isascii() and compact.isalnum()) or len(compact) < 5:
        return True  # let stdnum give its own answer
    return int((compact[4:] + compact[:4]).translate(_IBAN_BASE10)) % 97 == 1


def _cro_checksum_ok(digits: str) -> bool:
    """Seed 000: 11 digits; the last two are the first nine modulo 13."""
    return (
        len(digits) == _CRO_LENGTH
        and digits.isdigit()
        and int(digits[:9]) % _CRO_MODULUS == int(digits[9:])
    )


def _trn_format_ok(value: str) -> bool:
    """30 upper-case alphanumerics, mostly digits (as Italian banks lay them out)."""
    return (
        len(value) == _TRN_LENGTH
        and sum(ch.isdigit() for ch in value) >= _TRN_MIN_DIGITS
    )


def _word_positions(lowered: str, word: str) -> Iterator[int]:
    """Starts of `word` in `lowered` as a whole word (not inside a longer one)."""
    start = lowered.find(word)
    size = len(word)
    while start != -1:
        before = lowered[start - 1] if start else " "
        after = lowered[start + size] if start + size < len(lowered) else " "
        if not before.isalpha() and not after.isalpha():
            yield start
        start = lowered.find(word, start + 1)


def _word_char_after(text: str, end: int) -> bool:
    return end < len(text) and (text[end].isalnum() or text[end] == "_")


def _context_code(kind: str, scan: _Scan, start: int, core: str) -> _Candidate | None | bool:
    """A candidate, None to look at the next token, False to stop looking."""
    text = scan.text
    has_digit = any(ch.isdigit() for ch in core)
    if kind in ("ref", "booking"):
        return _reference_code(kind, scan, start, core, has_digit)
    if not has_digit:
        return None
    if kind == "vat":
        m = _VAT_CODE_AT_RE.match(text, start)
        if m and iva.is_valid(_digits(m.group())):
            return _Candidate(_RANK[IT_VAT], *m.span(), IT_VAT)
    elif kind == "cf":
        m = _CF_CODE_AT_RE.match(text, start)
        if m and codicefiscale.is_valid(m.group()):
            return _Candidate(_RANK[IT_FISCAL_CODE], *m.span(), IT_FISCAL_CODE)
    elif kind == "cro":
        m = _CRO_CODE_AT_RE.match(text, start)
        if m and not (start and text[start - 1].isdigit()):
            return _Candidate(_RANK[CRO], *m.span(), CRO)
    elif kind == "trn":
        m = _TRN_CODE_AT_RE.match(text, start)
        if m:
            return _Candidate(_RANK[TRN], *m.span(), TRN)
    return False


def _context_tokens(text: str, pos: int) -> Iterator[tuple[int, str]]:
    """(start of the code part, code core) for the tokens after a context word.

    Stops at a sentence end, at a stop word (tracking, volo, prezzo …) or after
    `_MAX_FILLER_WORDS` words without digits.
    """
    fillers = 0
    tokens = _TOKEN_RE.finditer(text, pos, min(len(text), pos + _CONTEXT_REACH))
    for count, match in enumerate(tokens):
        if count >= _MAX_CONTEXT_TOKENS:
            return
        token = match.group()
        prefix = _CODE_PREFIX_RE.match(token)
        skip = prefix.end() if prefix else 0
        core = token[skip:].rstrip(_CODE_TRAIL)
        if not core:
            continue
        if core.casefold() in _STOP_WORDS:
            return
        yield match.start() + skip, core
        if not any(ch.isdigit() for ch in core):
            fillers += 1
            if fillers > _MAX_FILLER_WORDS:
                return
        if token[-1] in "!?":
            return


def _reference_code(
    kind: str, scan: _Scan, start: int, core: str, has_digit: bool
) -> _Candidate | None | bool:
    match = _REFERENCE_CODE_RE.match(core)
    if match is None:
        return False if has_digit else None
    code = match.group()
    end = start + len(code)
    if not has_digit:
        letters = code.isalpha() and code.isupper()
        if kind == "booking" and letters and _PNR_LETTERS[0] <= len(code) <= _PNR_LETTERS[1]:
            if len(code) == len(core):
                return _Candidate(_RANK[REFERENCE], start, end, REFERENCE)
        return None
    if not _reference_shape_ok(code) or scan.shape_blocked(start, end):
        return False
    return _Candidate(_RANK[REFERENCE], start, end, REFERENCE)


def _reference_shape_ok(code: str) -> bool:
    if len(code) > _REFERENCE_MAX_LEN:
        return False
    if _YEAR_RE.fullmatch(code) or _FLIGHT_SHAPE_RE.fullmatch(code):
        return False
    if code.isdigit():
        return len(code) >= _REFERENCE_MIN_DIGITS_ONLY
    alnum = sum(ch.isalnum() for ch in code)
    return alnum >= _REFERENCE_MIN_ALNUM


def _resolve(candidates: list[_Candidate]) -> list[_Candidate]:
    """Keep the best non-overlapping candidates: rank first, then length, then position."""
    if len(candidates) < 2:
        return candidates
    candidates.sort(key=lambda c: (-c.rank, c.start - c.end, c.start))
    kept: list[_Candidate] = []
    taken = _Spans(())
    for candidate in candidates:
        if taken.overlaps(candidate.start, candidate.end):
            continue
        kept.append(candidate)
        taken = _Spans([(c.start, c.end) for c in kept])
    kept.sort(key=lambda c: c.start)
    return kept


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
