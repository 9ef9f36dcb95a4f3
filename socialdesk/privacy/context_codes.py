"""Codes a nearby word names: partita IVA, codice fiscale, CRO, TRN, bookings, references.

Their shapes collide with phone numbers and product codes, so they count only after a
word naming them ("P.IVA", "CRO", "ordine n." ...), within a few filler words.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from stdnum.it import codicefiscale, iva

from socialdesk.privacy.bank_numbers import CRO_CODE_AT_RE, TRN_CODE_AT_RE
from socialdesk.privacy.candidates import (
    CRO,
    IT_FISCAL_CODE,
    IT_VAT,
    RANK,
    REFERENCE,
    TRN,
    Candidate,
    digits_only,
)
from socialdesk.privacy.lookalikes import TextScan
from socialdesk.privacy.tax_codes import CF_CODE_AT_RE, VAT_CODE_AT_RE
from socialdesk.privacy.vocabulary import CONTEXT_STOP_WORDS

# Context words: how far after the word a code may start, and how many filler words
# ("n.", "numero", "è", "is", "my") may sit in between.
_CONTEXT_REACH = 40
_MAX_FILLER_WORDS = 3
_MAX_CONTEXT_TOKENS = 6
_REFERENCE_MIN_DIGITS_ONLY = 5
_REFERENCE_MIN_ALNUM = 5
_REFERENCE_MAX_LEN = 30
_PNR_LETTERS = (5, 8)  # booking codes may be letters only, but only after a booking word

CONTEXT_RE = re.compile(
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
_TOKEN_RE = re.compile(r"\S+")
_has_digit = re.compile(r"\d").search
# Leading decorations of a code token: "#0123456", "n.4471203", "n°4471203", "(QX7P2L".
_CODE_PREFIX_RE = re.compile(r"(?:[#:(\[«\"'=]|n[°º.]|nr\.|no\.)*", re.I)
_CODE_TRAIL = ".,;:!?)]»\"'"
_REFERENCE_CODE_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-/_]*[A-Za-z0-9])?")
_YEAR_RE = re.compile(r"(?:19|20)\d\d")
_FLIGHT_SHAPE_RE = re.compile(r"(?:[A-Z]{2}|[A-Z]\d|\d[A-Z])\d{1,4}[A-Z]?")


# A brand message that asks for something: a question mark or an asking verb.
_ASKING_RE = re.compile(
    r"""\?|\b(?:send|share|dm|give|provide|tell|confirm|let\s+us\s+know|what(?:['’]s|\s+is)
        |can\s+you|could\s+you|please|inviar|mandar|scriver|indicar|fornir|comunicar
        |dir(?:ci|mi)\b|(?:ci|mi)\s+(?:indic|mand|scriv|invi|dic|dia|forn|comunic)|qual\s*è
        |quale|potrebbe|può|puoi)""",
    re.X | re.I,
)
_HANDLE_OR_URL_RE = re.compile(r"(?:[@#]\w+|https?://\S+|www\.\S+)")
_LETTER_CODE_MAX_TOKENS = 3
"""A letters-only booking code in a reply counts only in a reply this short ("QXPLRT
grazie"): in a longer one, a capitalised word ("PLEASE") is likelier than a code."""


def asked_kinds(context: str) -> frozenset[str]:
    """The kinds of code the brand's message asks for ("what is your order number?")."""
    if not _ASKING_RE.search(context):
        return frozenset()
    return frozenset(m.lastgroup for m in CONTEXT_RE.finditer(context) if m.lastgroup)


def answered(scan: TextScan, kinds: frozenset[str] | Collection[str]) -> Iterator[Candidate]:
    """The first bare code of a reply to a question asking for one of `kinds`.

    The reply needs no word naming the code: the question named it. Only the first code
    counts, so a phone number given after it ("4471203, call me on …") stays a phone.
    """
    text = scan.text
    tokens = [m for m in _TOKEN_RE.finditer(text) if not _HANDLE_OR_URL_RE.fullmatch(m.group())]
    letters_ok = len(tokens) <= _LETTER_CODE_MAX_TOKENS
    for match in tokens:
        token = match.group()
        prefix = _CODE_PREFIX_RE.match(token)
        skip = prefix.end() if prefix else 0
        core = token[skip:].rstrip(_CODE_TRAIL)
        if not core or core.casefold() in CONTEXT_STOP_WORDS:
            continue
        if not letters_ok and not _has_digit(core):
            continue
        start = match.start() + skip
        for kind in sorted(kinds):
            found = _context_code(kind, scan, start, core)
            if isinstance(found, Candidate) and not scan.in_url_or_handle(found.start):
                yield found
                return


def contextual(scan: TextScan, kind: str, end: int) -> Iterator[Candidate]:
    """The code a context word names; hashtags do not block it ("order #A12345")."""
    if kind != "booking" and not _has_digit(scan.text, end, end + _CONTEXT_REACH):
        return  # only a booking code may be letters only ("il mio conto è bloccato")
    for token_start, core in _context_tokens(scan.text, end):
        found = _context_code(kind, scan, token_start, core)
        if found is None:
            continue
        if isinstance(found, Candidate) and not scan.in_url_or_handle(found.start):
            yield found
        return


def _context_code(kind: str, scan: TextScan, start: int, core: str) -> Candidate | None | bool:
    """A candidate, None to look at the next token, False to stop looking."""
    text = scan.text
    has_digit = _has_digit(core) is not None
    if kind in ("ref", "booking"):
        return _reference_code(kind, scan, start, core, has_digit)
    if not has_digit:
        return None
    if kind == "vat":
        m = VAT_CODE_AT_RE.match(text, start)
        if m and iva.is_valid(digits_only(m.group())):
            return Candidate(RANK[IT_VAT], *m.span(), IT_VAT)
    elif kind == "cf":
        m = CF_CODE_AT_RE.match(text, start)
        if m and codicefiscale.is_valid(m.group()):
            return Candidate(RANK[IT_FISCAL_CODE], *m.span(), IT_FISCAL_CODE)
    elif kind == "cro":
        m = CRO_CODE_AT_RE.match(text, start)
        if m and not (start and text[start - 1].isdigit()):
            return Candidate(RANK[CRO], *m.span(), CRO)
    elif kind == "trn":
        m = TRN_CODE_AT_RE.match(text, start)
        if m:
            return Candidate(RANK[TRN], *m.span(), TRN)
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
        if core.casefold() in CONTEXT_STOP_WORDS:
            return
        yield match.start() + skip, core
        if not _has_digit(core):
            fillers += 1
            if fillers > _MAX_FILLER_WORDS:
                return
        if token[-1] in "!?":
            return


def _reference_code(
    kind: str, scan: TextScan, start: int, core: str, has_digit: bool
) -> Candidate | None | bool:
    match = _REFERENCE_CODE_RE.match(core)
    if match is None:
        return False if has_digit else None
    code = match.group()
    end = start + len(code)
    if not has_digit:
        letters = code.isalpha() and code.isupper()
        if kind == "booking" and letters and _PNR_LETTERS[0] <= len(code) <= _PNR_LETTERS[1]:
            if len(code) == len(core):
                return Candidate(RANK[REFERENCE], start, end, REFERENCE)
        return None
    if not _reference_shape_ok(code) or scan.shape_blocked(start, end):
        return False
    return Candidate(RANK[REFERENCE], start, end, REFERENCE)


def _reference_shape_ok(code: str) -> bool:
    if len(code) > _REFERENCE_MAX_LEN:
        return False
    if _YEAR_RE.fullmatch(code) or _FLIGHT_SHAPE_RE.fullmatch(code):
        return False
    if code.isdigit():
        return len(code) >= _REFERENCE_MIN_DIGITS_ONLY
    # `_REFERENCE_CODE_RE` allows ASCII letters and digits and "-", "/", "_" only
    alnum = len(code) - code.count("-") - code.count("/") - code.count("_")
    return alnum >= _REFERENCE_MIN_ALNUM
