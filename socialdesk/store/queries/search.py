"""The queue's full-text search: which messages match the words typed, newest first.

On SQLite an FTS5 table (migration 0004); on PostgreSQL a GIN index over the accent-folded
text (migration 0007). No writes.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import Integer, column, func, literal, literal_column, text
from sqlmodel import Session, select

from socialdesk.store.tables import MESSAGE
from socialdesk.store.textfold import fold_accents, folded_text

SEARCH_MATCH_LIMIT = 2000
"""Search looks at the newest this-many matching messages: newest-first costs ~0.3 ms at
1 M rows, ranking every hit of a common word took seconds (PLATFORMS.md, FTS5)."""

PREFIX_TERMS_LIMIT = 64
"""At most this many indexed words are spelled out for the last, unfinished word (see
`_prefix_part`); a prefix that stands for more is left to FTS5's own prefix query."""

SHORTEST_SPELLED_PREFIX = 3
"""Shorter prefixes stand for too many words to spell out."""

_TERMS_TABLE = "temp.message_fts_terms"
_CREATE_TERMS_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {_TERMS_TABLE} "
    "USING fts5vocab(main, message_fts, row)"
)
"""FTS5's own list of indexed words, per connection (a temp table: nothing stored, no
migration, nothing for ingest to keep current)."""
_FOLDABLE = re.compile(r"[0-9A-Za-z\u00c0-\u017f]+")
"""Letters whose accent-folded, lower-case form FTS5's `unicode61 remove_diacritics 2`
tokenizer is known to give as plain ASCII (Latin-1 and Latin Extended-A)."""


def full_text_query(words: str) -> str:
    """User words as an FTS5 query: each word quoted (no operator injection), the last one
    a prefix so results follow typing."""
    tokens = re.findall(r"\w+", words)
    if not tokens:
        return ""
    quoted = [_quoted(token) for token in tokens]
    quoted[-1] += "*"
    return " ".join(quoted)


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def spelled_out_query(session: Session, words: str) -> str:
    """`full_text_query(words)` with its last word's prefix spelled out as the indexed words
    it stands for, when that is cheap to know (`_prefix_part`): the same matches.

    FTS5 answers a prefix query without a prefix index by merging the whole posting list of
    every word with that prefix before it can return the newest match: 37 ms for a word in
    half of a million messages, against 1 ms for the same word as a term (benchmarks/tui.py).
    """
    tokens = re.findall(r"\w+", words)
    if not tokens:
        return ""
    *whole, last = tokens
    return " AND ".join([*(_quoted(token) for token in whole), _prefix_part(session, last)])


def _prefix_part(session: Session, prefix: str) -> str:
    """The query part for a word typed so far: `"ord" OR "ordine" OR "ordini"`, the word
    itself and every other indexed word that starts with it. FTS5's word list is read from
    just past the word itself, so the word's own posting list is never walked (reading a
    word's row costs its posting list). A prefix too short, not plain Latin, or standing
    for more than `PREFIX_TERMS_LIMIT` words stays an FTS5 prefix query."""
    folded = _folded(prefix)
    if folded is None or len(folded) < SHORTEST_SPELLED_PREFIX:
        return _quoted(prefix) + "*"
    connection = session.connection()
    connection.execute(text(_CREATE_TERMS_TABLE))
    following = connection.execute(
        text(f"SELECT term FROM {_TERMS_TABLE} WHERE term >= :after AND term < :end "
             "LIMIT :limit"),
        {"after": folded + "\x01", "end": folded[:-1] + chr(ord(folded[-1]) + 1),
         "limit": PREFIX_TERMS_LIMIT + 1},
    ).scalars().all()
    if len(following) > PREFIX_TERMS_LIMIT:
        return _quoted(prefix) + "*"
    terms = [_quoted(prefix), *(_quoted(term) for term in following)]
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def _folded(word: str) -> str | None:
    """The word as FTS5 indexes it (lower case, accents removed), or None when that cannot
    be told for sure here (letters outside Latin-1 and Latin Extended-A)."""
    if not _FOLDABLE.fullmatch(word):
        return None
    folded = "".join(character for character in unicodedata.normalize("NFD", word)
                     if not unicodedata.combining(character)).lower()
    return folded if folded.isascii() and folded.isalnum() else None


def search_hits_limit(session: Session, words: str) -> bool:
    """Whether more messages match `words` than the queue looks at (`SEARCH_MATCH_LIMIT`):
    its conversations then come from the newest matches only, and the count is not a total."""
    ids = search_message_ids(session, words, limit=SEARCH_MATCH_LIMIT + 1)
    if ids is None:
        return False
    matches = session.exec(select(func.count()).select_from(ids.subquery())).one()
    return int(matches) > SEARCH_MATCH_LIMIT


def search_message_ids(session: Session, words: str, limit: int | None = None) -> Any:
    """A subquery of the newest `limit` (default `SEARCH_MATCH_LIMIT`) matching message
    ids, or None when there is no search."""
    if not words.strip():
        return None
    limit = SEARCH_MATCH_LIMIT if limit is None else limit
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        query = spelled_out_query(session, words)
        if not query:
            return select(literal(None))  # nothing searchable: no match
        return text(
            "SELECT rowid FROM message_fts WHERE message_fts MATCH :fts_query "
            "ORDER BY rowid DESC LIMIT :fts_limit"
        ).bindparams(fts_query=query, fts_limit=limit).columns(
            column("rowid", Integer)
        )
    tokens = re.findall(r"\w+", fold_accents(words))
    if not tokens:
        return select(literal(None))
    # Word characters only, so the tsquery has no operator but ours; the last word is a prefix.
    prefix_query = " & ".join(tokens) + ":*"
    message = MESSAGE.c
    # The index's own expression (migration 0012), with constants, not bound parameters:
    # PostgreSQL uses an expression index only for the very same expression.
    vector = func.to_tsvector(literal_column("'simple'"), folded_text(message.text))
    return (
        select(message.id)
        .where(vector.op("@@")(func.to_tsquery(literal_column("'simple'"), prefix_query)))
        .order_by(message.id.desc())
        .limit(limit)
    )
