"""The detector's word pass: where a post names a code, starts a street or announces a
look-alike.

One pass over the words of a post finds the trigger words of `vocabulary` and where they
stand; the families then look only there (`context_codes` after a context word,
`contact_details` after a street word or a postcode word). The words a look-alike word
announces ("volo AZ 610", "tracking 0580 …") are marked on the `TextScan` at once.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import NamedTuple

from socialdesk.privacy.context_codes import CONTEXT_RE
from socialdesk.privacy.lookalikes import WORD_BLOCK_RE, TextScan
from socialdesk.privacy.vocabulary import (
    BLOCK_TRIGGERS,
    BOOKING_HINTS,
    BOOKING_TRIGGERS,
    CONTEXT_TRIGGERS,
    POSTCODE_TRIGGERS,
    SPELLED_AT_TRIGGERS,
    STREET_EN_TRIGGERS,
    STREET_IT_TRIGGERS,
)


@dataclass(slots=True)
class Triggers:
    """What the word pass found: where codes are named, where streets and postcodes start."""

    contexts: list[tuple[str, int]] = field(default_factory=list)
    """(context kind, end of the context word)"""
    streets: list[int] = field(default_factory=list)
    """start of each Italian street word"""
    postcodes: list[int] = field(default_factory=list)
    """start of each word naming a postcode"""
    spelled_ats: list[int] = field(default_factory=list)
    """start of each "at" / "chiocciola" that may stand for an "@" sign"""
    english_street: bool = False
    """an English street type occurs somewhere"""


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# A one-letter trigger starts an abbreviation only with the character that follows it
# ("v.le", "p.zza", "c.f.", "p iva", "s/n", "h 10:30"); Italian elides "l'" everywhere.
_LETTER_TRIGGER_FOLLOWERS = {
    "v": ".", "l": ".", "c": ".", "t": ".", "p": ". ", "s": "/", "h": " 0123456789",
}
_SPELLED_AT_HINT_RE = re.compile(r"\sat\s|\[at\]|\(at\)|\{at\}|chiocciola")
# The words of a post are the runs of the letters every trigger is written in,
# [a-zà-ÿ]: `_word_positions` then checks the real word boundaries, so a word glued to
# another script's letter is still rejected. They are cut on the post's Latin-1 bytes
# (one byte per character, anything else a "?"), every other byte made a space: a byte
# translation and a split cost a third of a regex `findall` over the text.
_WORD_BYTES = bytes(
    byte if ord("a") <= byte <= ord("z") or byte >= 0xE0 else ord(" ") for byte in range(256)
)
_ALL_TRIGGERS = frozenset(
    word.encode("latin-1")
    for word in CONTEXT_TRIGGERS | STREET_IT_TRIGGERS | BLOCK_TRIGGERS | POSTCODE_TRIGGERS
    | STREET_EN_TRIGGERS | SPELLED_AT_TRIGGERS
)
_NO_DIGIT_TRIGGERS = frozenset(
    word.encode("latin-1") for word in BOOKING_TRIGGERS | SPELLED_AT_TRIGGERS)
_STREET_EN_TRIGGERS = frozenset(word.encode("latin-1") for word in STREET_EN_TRIGGERS)


class _Roles(NamedTuple):
    """What a trigger word may start, and the characters a one-letter word needs after it."""

    word: str
    context: bool
    street: bool
    postcode: bool
    block: bool
    spelled_at: bool
    follow: str | None


_ROLES = {
    key: _Roles(word, word in CONTEXT_TRIGGERS, word in STREET_IT_TRIGGERS,
                word in POSTCODE_TRIGGERS, word in BLOCK_TRIGGERS, word in SPELLED_AT_TRIGGERS,
                _LETTER_TRIGGER_FOLLOWERS.get(word))
    for key, word in ((key, key.decode("latin-1")) for key in _ALL_TRIGGERS)
}


def find_triggers(scan: TextScan, has_digits: bool) -> Triggers:
    """One word pass: context words, street words and look-alike announcements.

    Fills `scan.word_blocks` with the look-alikes a word announces.
    """
    text = scan.text
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lower-cases to two code points
        lowered = text.translate(_ASCII_LOWER)
    found = Triggers()
    looked_for = _ALL_TRIGGERS
    if not has_digits:
        # without digits only a letters-only booking code or a spelled-out e-mail
        # address can follow a word
        spelled = _SPELLED_AT_HINT_RE.search(lowered) is not None and (
            "." in lowered or "dot" in lowered or "punto" in lowered)
        if not spelled and not any(hint in lowered for hint in BOOKING_HINTS):
            return found
        looked_for = _NO_DIGIT_TRIGGERS
    words = trigger_words(lowered, looked_for)
    for key in words:
        word, context, street, postcode, block, spelled_at, follow = _ROLES[key]
        if not (context or street or postcode or block or spelled_at):
            continue  # an English street type: `addresses` reads the whole text
        positions = (_word_positions(lowered, word) if follow is None
                     else _letter_positions(lowered, word, follow))
        for start in positions:
            if context:
                match = CONTEXT_RE.match(text, start)
                if match and match.lastgroup:
                    found.contexts.append((match.lastgroup, match.end()))
            if street:
                found.streets.append(start)
            if postcode:
                found.postcodes.append(start)
            if spelled_at:
                found.spelled_ats.append(start)
            if block:
                span = WORD_BLOCK_RE.match(text, start)
                if span:
                    scan.word_blocks.append(span.span())
    found.english_street = not words.isdisjoint(_STREET_EN_TRIGGERS)
    return found


def trigger_words(lowered: str, looked_for: frozenset[bytes]) -> frozenset[bytes]:
    """The words of `looked_for` that are whole runs of [a-zà-ÿ] in `lowered`."""
    return looked_for.intersection(
        lowered.encode("latin-1", "replace").translate(_WORD_BYTES).split())


def _word_positions(lowered: str, word: str) -> list[int]:
    """Starts of `word` (letters only) in `lowered` as a whole word, not inside a longer one."""
    positions = []
    size, length = len(word), len(lowered)
    start = lowered.find(word)
    while start != -1:
        end = start + size
        if (not start or not lowered[start - 1].isalpha()) and (
                end == length or not lowered[end].isalpha()):
            positions.append(start)
        start = lowered.find(word, end)  # a whole word cannot overlap the one just found
    return positions


def _letter_positions(lowered: str, letter: str, follow: str) -> list[int]:
    """Starts of the one-letter word `letter` where the next character is in `follow` or
    the text ends ("l.go", "p.iva", "s/n"; not "l'ordine", "c è").

    The same positions `_word_positions` gives, filtered, but found by searching for the
    letter and its follower together: a lone letter is rare, the letter itself is in most
    words ("l" occurs 5 times in a post that holds "l'aiuto").
    """
    if len(follow) > 2:
        return [start for start in _word_positions(lowered, letter)
                if lowered[start + 1:start + 2] in follow]
    positions = []
    for after in follow:
        pair = letter + after
        start = lowered.find(pair)
        while start != -1:
            if not start or not lowered[start - 1].isalpha():
                positions.append(start)
            start = lowered.find(pair, start + 1)
    last = len(lowered) - 1
    if lowered.endswith(letter) and (not last or not lowered[last - 1].isalpha()):
        positions.append(last)
    positions.sort()
    return positions
