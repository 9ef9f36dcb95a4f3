"""Which language, Italian or English, a customer wrote a short post in.

lingua (`lingua-language-detector`) restricted to the two languages is accurate on
text as short as a tweet. Personal data, @handles and URLs carry no language and are
stripped first; when lingua is unsure the account's default language decides.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lingua import LanguageDetector

ITALIAN = "it"
ENGLISH = "en"
LANGUAGES: tuple[str, ...] = (ITALIAN, ENGLISH)

MIN_CONFIDENCE = 0.8
"""Below this, lingua's best guess is a coin toss ("@brand ok" is 0.70 English)."""
MIN_LETTERS = 3
"""A post with fewer letters than this says nothing about its language."""

_NOISE_RE = re.compile(r"(?:https?://|www\.)\S+|[@#]\w+")
_LETTER_RE = re.compile(r"[^\W\d_]")

_detector: LanguageDetector | None = None
_detector_lock = threading.Lock()


class _Span(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


def post_language(text: str, default: str, entities: Iterable[_Span] = ()) -> str:
    """`"it"` or `"en"`; `default` when the text is too short or lingua is unsure."""
    words = _words_only(text, entities)
    if len(_LETTER_RE.findall(words)) < MIN_LETTERS:
        return default
    values = _lingua().compute_language_confidence_values(words)
    if not values or values[0].value < MIN_CONFIDENCE:
        return default
    return values[0].language.iso_code_639_1.name.lower()


def _words_only(text: str, entities: Iterable[_Span]) -> str:
    """The text without personal data, @handles, hashtags and URLs."""
    pieces = []
    cursor = 0
    for entity in sorted(entities, key=lambda e: e.start):
        if entity.start >= cursor:
            pieces.append(text[cursor:entity.start])
            cursor = entity.end
    pieces.append(text[cursor:])
    return _NOISE_RE.sub(" ", " ".join(pieces))


def _lingua() -> LanguageDetector:
    """Built once per process: loading the two language models takes about a second."""
    global _detector
    with _detector_lock:
        if _detector is None:
            from lingua import Language, LanguageDetectorBuilder

            _detector = LanguageDetectorBuilder.from_languages(
                Language.ITALIAN, Language.ENGLISH
            ).build()
        return _detector
