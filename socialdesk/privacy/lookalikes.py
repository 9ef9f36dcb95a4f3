"""Look-alikes that are not personal data: URLs, @handles, hashtags, dates, prices, codes.

Checked only around validated candidates, so a post with no candidate never pays for them.
"""

from __future__ import annotations

import re

# A token that is a URL or an @handle hides everything in it; a hashtag hides numbers.
_URL_TOKEN_RE = re.compile(
    r"[(\[<\"']*(?:https?://|www\.|(?:[a-z0-9-]+\.)+(?:com|it|net|org|eu|co|io|ly|me|uk|de|fr|es"
    r"|info|app|gl|be)/)[^\s<>\"']*",
    re.I,
)
_HANDLE_TOKEN_RE = re.compile(r"[(\[<\"']*[@#]\w+")
# Shapes that start with a digit, a currency sign or a capital: dates, times, prices,
# versions, flight numbers, postal tracking layouts. The two guards in front change no
# match, only the cost: every alternative starts with one of those characters, and none
# starts at a digit right after a digit (each one's lookbehind rejects it), so most
# positions fail on one test instead of ten alternatives (the windows around phone
# numbers are mostly such positions: 2.4x faster). The price's possessive `*+` and `?+`
# only stop backtracking that cannot succeed: what they would give back (digits, dots,
# a space) can never start a currency; a third less again.
_SHAPES = r"""
      \d(?<![\d.,/\-]\d)\d?[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?![\d/])     # 12/03/2025 21.6.1984
    | \d(?<![\d.,/\-]\d)\d{3}[./-]\d{1,2}[./-]\d{1,2}(?![\d/])           # 2025-10-11
    | \d(?<![\d.,/\-]\d)\d?/\d{2}(?![\d/])                                # 06/21
    | \d(?<!\d\d)\d?:\d{2}(?::\d{2})?(?!\d)                                # 10:30
    | [€$£]\s?\d[\d.,]*(?:,-)?                                          # € 1.299,00
    | \d(?<![\d.,]\d)[\d.,]*+\s?+(?:[€$£]|(?i:eur|euro|usd|dollari|dollars?|gbp|sterline|pounds?)\b)
    | [vV](?<!\w[vV])\d+(?:\.\d+)+\b                                     # v2.14.3
    | [A-Z0-9][A-Z0-9](?<!\w[A-Z0-9]{2})(?<!\d\d)\s?\d{1,4}[A-Z]?\b        # AZ 1234, FR8123
    | [A-Z]{2}(?<!\w[A-Z]{2})\d{9}[A-Z]{2}\b                               # RR123456789IT (S10)
    | 1Z(?<!\w1Z)[0-9A-Z]{16}\b                                          # UPS
"""
_SHAPE_GUARD = r"(?=[\dA-Z€$£vV])(?!(?<=\d)\d)"
_SHAPE_BLOCK_RE = re.compile(_SHAPE_GUARD + "(?:" + _SHAPES + ")", re.X)
_SHAPE_REACH = 24  # no shape above is longer: look this far around a candidate
# Shapes announced by a word: matched only where the word occurs.
WORD_BLOCK_RE = re.compile(
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
        [A-Za-z0-9][A-Za-z0-9\-]{3,39}(?:[ ]\d{2,6}(?![\w]))*      # spaced: 0580 6036 0455 …
    | (?:codice\s+(?:sconto|promo(?:zionale)?|coupon|regalo|offerta)|promo(?:\s*code)?
        |coupon(?:\s*code)?|voucher(?:\s*code)?|discount\s+code|gift\s*card|buono(?:\s+sconto)?)
        (?:\s*(?:n\.|nr\.?|no\.?|n°|number|numero|code|codice|è|is|:|\#))*\s*
        [A-Za-z0-9][A-Za-z0-9\-]{3,39}(?:[ ]\d{2,6}(?![\w]))*
    | (?:eur|usd|gbp)\s?\d[\d.,]*
    | (?:ore|alle|h|at)\s?\d{1,2}[.:]\d{2}(?!\d)
    )
    """,
    re.X,
)


class TextScan:
    """Per-text state: where the look-alikes are, computed on demand."""

    __slots__ = ("text", "word_blocks")

    def __init__(self, text: str) -> None:
        self.text = text
        self.word_blocks: list[tuple[int, int]] = []

    def in_url_or_handle(self, start: int) -> bool:
        """True when `start` lies inside a URL or an @handle (hides every type)."""
        token = self._token_start(start)
        return self._token_cover(token, start, "@") or self._url_cover(token, start)

    def word_blocked(self, start: int, end: int) -> bool:
        """Overlaps a code a word announced (tracking, promo code …) or a failed IBAN."""
        blocks = self.word_blocks
        return bool(blocks) and any(s < end and start < e for s, e in blocks)

    def shape_blocked(self, start: int, end: int) -> bool:
        """Overlaps a date, time, price, version, flight/train or tracking number."""
        if self.word_blocked(start, end):
            return True
        window = _SHAPE_BLOCK_RE.finditer(
            self.text, max(0, start - _SHAPE_REACH), min(len(self.text), end + _SHAPE_REACH)
        )
        for match in window:  # in order of start: past `end`, nothing later can overlap
            if match.start() >= end:
                return False
            if start < match.end():
                return True
        return False

    def numeric_blocked(self, start: int, end: int) -> bool:
        """In a URL, an @handle or a hashtag, or overlapping a look-alike shape."""
        token = self._token_start(start)  # the three token tests share it
        return (
            self._token_cover(token, start, "@") or self._url_cover(token, start)
            or self._token_cover(token, start, "#") or self.shape_blocked(start, end)
        )

    def _token_start(self, pos: int) -> int:
        text = self.text
        while pos > 0 and not text[pos - 1].isspace():
            pos -= 1
        return pos

    def _token_cover(self, token: int, start: int, sigil: str) -> bool:
        """`start` lies in an @handle or a hashtag (`sigil`) that starts the token at `token`."""
        if sigil not in self.text[token:start + 1]:
            return False
        match = _HANDLE_TOKEN_RE.match(self.text, token)
        return match is not None and sigil in match.group() and start < match.end()

    def _url_cover(self, token: int, start: int) -> bool:
        """`start` lies in a URL that starts the token at `token`."""
        if token == start and "/" not in self.text[start:start + 12]:
            return False
        match = _URL_TOKEN_RE.match(self.text, token)
        return match is not None and start < match.end()
