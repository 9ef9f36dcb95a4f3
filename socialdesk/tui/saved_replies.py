"""Saved replies ranked by what the customer asks about (seed 003, issue 17).

Whole-text similarity (rapidfuzz's `token_set_ratio`) put "reinstall the app and reset your
password" first for a refund complaint: the words the two shared were "il", "e", "la". The
ranking now counts only the words that carry meaning, stemmed (Snowball, English and
Italian) so that "rimborso" finds "rimborsato" and "refunds" finds "refund", each weighted
by how few saved replies use it. A reply's name counts twice: it is the team's own keyword
for it ("refund", "login-help"). Among the replies about the message, the ones in the
customer's language come first; the replies about nothing in it come last, in config order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import Any

import snowballstemmer
from rapidfuzz import fuzz, process

from socialdesk.tui.context import SavedReply

SUGGESTIONS = 3

STEMMERS = {"en": "english", "it": "italian"}
"""The customers' languages (`socialdesk.privacy.language`), by Snowball algorithm."""

NAME_WEIGHT = 2.0
"""A word of the reply's name counts this much more than a word of its text."""
TYPO_SCORE = 85
"""rapidfuzz ratio from which a stem counts as a misspelling of another (`rimborzo`)."""
TYPO_WEIGHT = 0.5
TYPO_MIN_LENGTH = 5
"""Shorter stems are too alike to match loosely ("app" and "apr")."""
MIN_WORD = 3

STOPWORDS = {
    "en": frozenset("""
        a about after again all also am an and any are as at be been before but by can
        cannot could did do does doing done for from get got had has have having hello her
        here hey hi him his how i if in into is it its just me more most my no not now of
        off on one only or other our out over please same she so some still such than thank
        thanks that the their them then there these they this those to too up us very was
        we were what when where which while who why will with would yet you your sorry
        dear team can't don't i'm it's we're we've you're isn't hasn't
        """.split()),
    "it": frozenset("""
        a ad al alla alle allo ai agli anche ancora che chi ci ciao come con cosa da dal
        dalla dai dagli del della delle dello dei degli di dopo e è ed gli grazie ha hai
        ho i il in io la le lei li lo loro lui ma mi mia mie mio miei ne nei nel nella
        nelle no noi non nostro nostra o per perché più poi può qua qui quando quello
        questa questo se sei si sia siamo sono su sua sue suo suoi ti tra tu tuo tua un
        una uno vi voi vostro salve buongiorno buonasera scusa scusate ci sto sta stato
        stata fa fare essere avere molto tutto tutti già solo dell nell dall sull
        """.split()),
}

_PLACEHOLDER_RE = re.compile(r"\{\w+\}")
_NOISE_RE = re.compile(r"(?:https?://|www\.)\S+|[@#]\w+")
_WORD_RE = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def suggest(saved: list[SavedReply], last_inbound: str,
            limit: int = SUGGESTIONS) -> list[SavedReply]:
    """The saved replies most about what the customer's last message asks, best first."""
    if not saved:
        return []
    asked = stems(words(last_inbound))
    replies = [_reply_terms(reply) for reply in saved]
    rarity = _rarity(replies)
    language = guess_language(words(last_inbound))
    scores = [relevance(asked, terms, rarity) for terms in replies]
    order = sorted(range(len(saved)), key=lambda index: (
        scores[index] <= 0, language is not None and saved[index].language != language,
        -scores[index], index))
    return [saved[index] for index in order[:limit]]


def relevance(asked: set[str], reply: dict[str, float], rarity: dict[str, float]) -> float:
    """How much of what the customer asked the reply is about: each shared stem counts its
    rarity times its weight in the reply; a near miss of a long stem counts half."""
    score = 0.0
    for stem in asked:
        if stem in reply:
            score += rarity[stem] * reply[stem]
        elif len(stem) >= TYPO_MIN_LENGTH:
            near = process.extractOne(stem, list(reply), scorer=fuzz.ratio,
                                      score_cutoff=TYPO_SCORE)
            if near is not None:
                score += TYPO_WEIGHT * rarity[near[0]] * reply[near[0]]
    return score


def words(text: str) -> list[str]:
    """The lower-case words of `text`, without handles, links, numbers or placeholders."""
    cleaned = _NOISE_RE.sub(" ", _PLACEHOLDER_RE.sub(" ", text.replace("’", "'")))
    return [word.lower() for word in _WORD_RE.findall(cleaned)]


def stems(tokens: Iterable[str]) -> set[str]:
    """The stems of the words that carry meaning, in both languages' stemmers: a customer
    may mix them, and a reply's language says nothing of the message's."""
    found: set[str] = set()
    for token in tokens:
        for part in token.split("'"):  # "dall'app" -> "dall", "app"
            if len(part) >= MIN_WORD and not _is_stopword(part):
                found.update(_stem(language, part) for language in STEMMERS)
    return found


def guess_language(tokens: list[str]) -> str | None:
    """The language whose common words the message uses most; None on a tie. A cheap
    guess is enough to put a language's replies first (lingua, which the privacy guard
    uses, takes a second to load: the desk's first composer would wait for it)."""
    hits = Counter(language for token in tokens for language, common in STOPWORDS.items()
                   if token in common)
    ranked = hits.most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def _reply_terms(reply: SavedReply) -> dict[str, float]:
    """Stem -> weight: the name's words count `NAME_WEIGHT`, the text's 1."""
    terms = dict.fromkeys(stems(words(reply.text)), 1.0)
    terms.update(dict.fromkeys(stems(words(reply.name.replace("-", " ").replace("_", " "))),
                               NAME_WEIGHT))
    return terms


def _rarity(replies: list[dict[str, float]]) -> dict[str, float]:
    """Inverse document frequency: a word every saved reply uses ("order", "sorry" in a
    shop's replies) tells them apart less than one only a few use."""
    used = Counter(stem for terms in replies for stem in terms)
    return {stem: math.log(1 + len(replies) / count) for stem, count in used.items()}


def _is_stopword(word: str) -> bool:
    return any(word in common for common in STOPWORDS.values())


@cache
def _stem(language: str, word: str) -> str:
    return str(_stemmer(language).stemWord(word))


@cache
def _stemmer(language: str) -> Any:  # snowballstemmer has no type hints
    return snowballstemmer.stemmer(STEMMERS[language])


def fill(template: str, name: str | None, agent: str) -> str:
    """`{name}` and `{agent}` filled in; any other brace is left as written."""
    return template.replace("{name}", name or "").replace("{agent}", agent)
