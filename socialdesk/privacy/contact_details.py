"""Contact details a customer writes out: email addresses and postal addresses.

Italian addresses start at a street word (via, piazza, corso ...) and need a house
number; English ones start at the house number and end at a street type. The brand's
own published addresses are never flagged.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Sequence

from socialdesk.privacy.candidates import ADDRESS, EMAIL, RANK, Candidate
from socialdesk.privacy.lookalikes import TextScan
from socialdesk.privacy.vocabulary import ADDRESS_NAME_STOP, MAIL_PROVIDERS

_EMAIL_RE = re.compile(
    r"[A-Za-z0-9](?<![\w.+\-][A-Za-z0-9])[A-Za-z0-9._%+\-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9\-]{2,59})(?![\w\-])"
)
_EMAIL_LOCAL_CHARS = frozenset(string.ascii_letters + string.digits + "._%+-")

# Postal addresses. Italian: street word + name + house number, optional CAP + city.
# Customers write street names in lower case too ("via roma 12"): a lower-case name word
# is accepted unless it is a function word ("vado via presto alle 8" is no address).
_NAME_WORD = r"[^\W\d_][\w'’.]*"
_PARTICLE = r"(?:de[il]?|dell[aeo]|degli|delle|della|di|d['’]|e|san|santa|sant['’]|s\.)"
_STREET_IT = (
    r"via|viale|v\.le|vle|piazza|p\.zza|p\.za|pza|piazzale|p\.le|piazzetta|corso|c\.so"
    r"|largo|l\.go|strada|str\.|vicolo|vic\.|contrada|c\.da|borgo|lungomare|lungotevere"
    r"|località|loc\.|frazione|fraz\."
)
_ADDRESS_IT_RE = re.compile(
    rf"""
    (?i:\b(?:{_STREET_IT}))\s+
    (?P<name>(?:{_PARTICLE}\s*)?{_NAME_WORD}(?:\s+(?:{_PARTICLE}\s*)?{_NAME_WORD}){{0,4}}?)
    \s*,?\s*(?i:n\.\s*|n°\s*|nr\.?\s*|num\.\s*|civico\s+)?
    (?P<number>\d{{1,4}}(?:\s?/\s?[A-Za-z0-9]{{1,3}}|[A-Za-z](?![\w]))?
      (?:\s+(?i:bis|ter|quater)\b)?)(?![\d\w])
    (?!\s*(?i:volte|times|giorni|days|ore|hours|minuti|minutes|mesi|months|settimane|weeks
        |anni|years|euro|€|%|pezzi|items|persone|people|km|kg|metri|pacchi|voli|treni))
    (?P<tail>\s*,?\s*\d{{5}}\s+[A-ZÀ-Þ][\w'’]*(?:\s+[A-ZÀ-Þ][\w'’]*)?(?:\s*\(?[A-Z]{{2}}\)?)?)?
    """,
    re.X,
)
# English: optional flat, house number + name + street word, optional city, state + ZIP
# or UK postcode.
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"
_ADDRESS_EN_RE = re.compile(
    rf"""
    \d(?<![\w.,/]\d)\d{{0,4}}[A-Za-z]?\s+
    (?:
      (?P<name>(?:[A-Z][\w'’]*\s+){{1,3}})
      (?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Close|Court|Ct
        |Place|Pl|Terrace|Crescent|Square|Sq)\b\.?
    | (?:St\.?|Saint)\s+[A-Z][\w'’]+(?:\s+[A-Z][\w'’]+){{0,2}}   # 30 St Mary Axe
    )
    (?P<tail>(?:,?\s*(?:Apt|Flat|Unit|Suite)\.?\s*\w+)?
      (?:,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)?
      (?:,?\s*(?:[A-Z]{{2}}\s+\d{{5}}(?:-\d{{4}})?|{_UK_POSTCODE}))?)
    """,
    re.X,
)
# Spelled-out e-mail addresses (see `spelled_emails`).
_DOT = r"(?:\s*(?:\.|\[dot\]|\(dot\)|\{dot\})\s*|\s+(?:dot|punto)\s+)"
_SPELLED_EMAIL_RE = re.compile(
    rf"""
    (?P<local>(?<![\w.+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{{0,63}})
    (?P<at>\s*(?:\[at\]|\(at\)|\{{at\}})\s*|\s+(?i:at|chiocciola)\s+)
    (?P<domain>[A-Za-z0-9](?:[A-Za-z0-9\-]{{0,61}}[A-Za-z0-9])?)
    (?:{_DOT}[A-Za-z0-9\-]{{2,24}})*?{_DOT}(?i:com|it|net|org|eu|co\.uk|uk|de|fr|es|me|io|info|biz)
    (?![\w\-])
    """,
    re.X,
)
_DOMAIN_AFTER_RE = re.compile(
    r"[\])}]?\s*[A-Za-z0-9][A-Za-z0-9\-]*(?:\s*(?:\.|\[dot\]|\(dot\)|\{dot\})|\s+(?i:dot|punto)\s)")
_LOCAL_MARK_RE = re.compile(r"[._\d]")
_NOT_A_NAME = frozenset({
    "me", "us", "you", "him", "her", "them", "it", "look", "here", "there", "is", "are", "was",
    "be", "reach", "contact", "write", "email", "mail", "find", "mi", "ci", "sono", "scrivi",
    "scrivimi", "scrivetemi", "contattatemi", "trovate", "trovi", "anche", "o", "or", "and", "e",
})
_LOCAL_REACH, _DOMAIN_REACH = 66, 90
# "Flat 12, " before the house number belongs to the address (looked for only once an
# address is found: as the regex's first part it would slow every scan).
_FLAT_BEFORE_RE = re.compile(r"(?:Flat|Apt|Apartment|Unit|Suite)\.?\s*\d{1,4}[A-Za-z]?,?\s+$")
_FLAT_REACH = 20
# An Italian address has its house number within this many characters of the street word.
_STREET_TO_NUMBER = 60
_has_digit = re.compile(r"\d").search
# A postcode alone, after a word naming it: "my postcode is LS8 2HP", "zip 10001", "CAP 20121".
_POSTCODE_RE = re.compile(
    rf"""
    (?i:\b(?:post\s?code|postal\s+code|zip(?:\s+code)?|cap))\b
    (?:
      (?:[^\w\n]+[\w'’]+){{0,7}}?[^\w\n]+{_UK_POSTCODE}   # "postcode on my order is LS8 2HP"
    | (?:\s+(?i:is|è|:|=|it's|was|era))*[\s:]*\d{{5}}(?:-\d{{4}})?   # "zip 10001", "CAP: 20121"
    )(?![\w])
    """,
    re.X,
)
_POSTCODE_VALUE_RE = re.compile(rf"(?:{_UK_POSTCODE}|\d{{5}}(?:-\d{{4}})?)$")
# A shop's, branch's or service centre's own address is not the customer's data: the
# address right after such a word ("il negozio di via Roma 3", "the store at 12 High St").
_PLACE_OF_BUSINESS_RE = re.compile(
    r"""
    (?i:\b(?:negozi[oi]|punt[oi]\s+vendita|filial[ei]|succursale|sede|deposito|magazzino
        |centr[oi]\s+(?:assistenza|riparazioni|servizi|commerciale)|sportell[oi]|agenzia
        |uffici[oi](?:\s+postale)?|showroom|outlet|store|shop|branch|depot|office|warehouse
        |(?:service|repair)\s+cent(?:re|er)|boutique|punto\s+ritiro|locker|supermercato|mall)
      (?:\s+[\w'’]+){0,2}?\s+
      (?:di|in|a|al|alla|all['’]|del|della|dell['’]|nel|nella|sul|sulla|at|on|in|of|near)\s*)$
    """,
    re.X,
)
_PLACE_REACH = 48
# Lower-case words that never start a street name: "vado via presto alle 8".
_NAME_FUNCTION_WORDS = frozenset({
    "a", "ad", "al", "alla", "alle", "anche", "con", "da", "dal", "dalla", "dopo", "e", "è",
    "fra", "gli", "ha", "hanno", "ho", "i", "il", "in", "la", "le", "lo", "ma", "mi", "ne",
    "nel", "non", "o", "per", "poi", "presto", "prima", "se", "si", "sono", "su", "sul",
    "subito", "tra", "un", "una", "uno", "the", "and", "to", "for", "with", "of", "or",
    "ci", "ti", "che", "qui", "li", "lì", "là", "tutti", "tutto", "ancora", "già", "circa",
})


def may_hold_email(text: str) -> bool:
    """An "@" right after a character of an address's local part: without one, `emails`
    finds nothing (an "@" that starts a token is a handle, in nearly every post)."""
    at = text.find("@")
    while at == 0 or (at > 0 and text[at - 1] not in _EMAIL_LOCAL_CHARS):  # "@handle"
        at = text.find("@", at + 1)
    return at >= 0


def emails(scan: TextScan) -> Iterator[Candidate]:
    """Email addresses. The detector calls it only when `may_hold_email` (a post whose
    every "@" starts a handle skips it), so it does not look again."""
    text = scan.text
    for match in _EMAIL_RE.finditer(text):
        if not scan.in_url_or_handle(match.start()):
            yield Candidate(RANK[EMAIL], *match.span(), EMAIL)


def spelled_emails(scan: TextScan, ats: list[int]) -> Iterator[Candidate]:
    """E-mail addresses spelled out to dodge bots: "mario.rossi at gmail dot com",
    "anna[at]libero.it", "luca chiocciola tiscali punto it". `ats` are the starts of the
    words "at" / "chiocciola". A plain "at" needs a mail provider after it or a dotted or
    numbered name before it, so "look at amazon.it" stays prose."""
    text = scan.text
    for at in ats:
        word_end = at + (10 if text[at] in "cC" else 2)  # "chiocciola" or "at"
        if not _DOMAIN_AFTER_RE.match(text, word_end):
            continue  # "at the store", "at 5pm": no domain and dot follow
        window = (max(0, at - _LOCAL_REACH), at + _DOMAIN_REACH)
        for match in _SPELLED_EMAIL_RE.finditer(text, *window):
            if not match.start("at") <= at < match.end("at"):
                continue
            bracketed = match.group("at").strip()[:1] in "[({"
            local = match.group("local")
            marked = _LOCAL_MARK_RE.search(local) is not None
            known = match.group("domain").casefold() in MAIL_PROVIDERS
            if not bracketed and not marked and (not known or local.casefold() in _NOT_A_NAME):
                continue  # "look at amazon.it", "reach me at gmail.com"
            if not scan.in_url_or_handle(match.start()):
                yield Candidate(RANK[EMAIL], match.start(), match.end(), EMAIL)
            break


def addresses(
    scan: TextScan, streets: list[int], english: bool, own_addresses: Sequence[str]
) -> Iterator[Candidate]:
    """Italian addresses at the given street-word starts; English ones anywhere if `english`.

    `own_addresses` are the brand's published addresses, normalised: never flagged, nor is
    an address named as a place of business ("il negozio di via …", "the store at …").
    """
    text = scan.text
    matches = [
        m for m in (_ADDRESS_IT_RE.match(text, s) for s in streets
                    if _has_digit(text, s, s + _STREET_TO_NUMBER))  # "via email": no number
        if m
    ]
    if english:
        matches.extend(_ADDRESS_EN_RE.finditer(text))
    for match in matches:
        name = match.group("name") or "St"
        words = name.split()
        first_name_word = words[0].casefold().strip(".,")
        if first_name_word in ADDRESS_NAME_STOP:
            continue
        if any(w in _NAME_FUNCTION_WORDS for w in words if w.islower()):
            continue
        start, end = match.start(), match.end()
        flat = _FLAT_BEFORE_RE.search(text, max(0, start - _FLAT_REACH), start)
        if flat is not None and match.re is _ADDRESS_EN_RE:
            start = flat.start()
        while end > start and text[end - 1] in " ,":
            end -= 1
        if scan.in_url_or_handle(start) or _is_own_address(text[start:end], own_addresses):
            continue
        if _PLACE_OF_BUSINESS_RE.search(text, max(0, start - _PLACE_REACH), start):
            continue
        yield Candidate(RANK[ADDRESS], start, end, ADDRESS)


def postcodes(scan: TextScan, starts: list[int]) -> Iterator[Candidate]:
    """A postcode or ZIP code after the word naming it (at `starts`): the postcode only."""
    text = scan.text
    for start in starts:
        match = _POSTCODE_RE.match(text, start)
        if match is None:
            continue
        code = _POSTCODE_VALUE_RE.search(match.group())
        if code is not None and not scan.in_url_or_handle(start):
            yield Candidate(RANK[ADDRESS], start + code.start(), match.end(), ADDRESS)


def _is_own_address(value: str, own_addresses: Sequence[str]) -> bool:
    found = normalise_address(value)
    return any(own in found or found in own for own in own_addresses)


def normalise_address(text: str) -> str:
    """Case, punctuation and spacing folded, so "Via Roma, 1" contains "via roma 1"."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())
