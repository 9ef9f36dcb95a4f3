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
from socialdesk.privacy.vocabulary import ADDRESS_NAME_STOP

_EMAIL_RE = re.compile(
    r"[A-Za-z0-9](?<![\w.+\-][A-Za-z0-9])[A-Za-z0-9._%+\-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9\-]{2,59})(?![\w\-])"
)
_EMAIL_LOCAL_CHARS = frozenset(string.ascii_letters + string.digits + "._%+-")

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


def emails(scan: TextScan) -> Iterator[Candidate]:
    """Email addresses; an "@" that starts a token is a handle and skipped cheaply."""
    text = scan.text
    at = text.find("@")
    while at == 0 or (at > 0 and text[at - 1] not in _EMAIL_LOCAL_CHARS):  # "@handle"
        at = text.find("@", at + 1)
    if at < 0:
        return
    for match in _EMAIL_RE.finditer(text):
        if not scan.in_url_or_handle(match.start()):
            yield Candidate(RANK[EMAIL], *match.span(), EMAIL)


def addresses(
    scan: TextScan, streets: list[int], english: bool, own_addresses: Sequence[str]
) -> Iterator[Candidate]:
    """Italian addresses at the given street-word starts; English ones anywhere if `english`.

    `own_addresses` are the brand's published addresses, normalised: never flagged.
    """
    text = scan.text
    matches = [m for m in (_ADDRESS_IT_RE.match(text, s) for s in streets) if m]
    if english:
        matches.extend(_ADDRESS_EN_RE.finditer(text))
    for match in matches:
        name = match.group("name") or "St"
        first_name_word = name.split()[0].casefold().strip(".,")
        if first_name_word in ADDRESS_NAME_STOP:
            continue
        start, end = match.start(), match.end()
        while end > start and text[end - 1] in " ,":
            end -= 1
        if scan.in_url_or_handle(start) or _is_own_address(text[start:end], own_addresses):
            continue
        yield Candidate(RANK[ADDRESS], start, end, ADDRESS)


def _is_own_address(value: str, own_addresses: Sequence[str]) -> bool:
    found = normalise_address(value)
    return any(own in found or found in own for own in own_addresses)


def normalise_address(text: str) -> str:
    """Case, punctuation and spacing folded, so "Via Roma, 1" contains "via roma 1"."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())
