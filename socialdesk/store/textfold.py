"""Accent folding for full-text search on PostgreSQL: `citta` finds `città` there too, as
SQLite's FTS5 does with `remove_diacritics`.

Text is decomposed (NFD) and its combining diacritical marks (U+0300–U+036F) dropped, in
the search index (migration 0012, which holds a copy of `POSTGRES_FOLD`) and in the typed
words alike. PostgreSQL's `unaccent` is an extension the desk's database user may not be
allowed to create; `normalize` and `regexp_replace` need nothing but a UTF8 database.

Until issue 16 the index folded with `translate(text, ACCENTED, UNACCENTED)` (migration
0007): the same letters, but `translate` compares each character of a message with each of
the 244 accented letters, 175 µs a message, and every insert paid it: 219 µs per row for
the index, against 66 µs with this expression and 54 µs with no folding at all (INSERT …
SELECT of 50,000 Italian support posts into a table with only that index, 2-vCPU VM).
The two strings stay as the list of letters the fold must cover (tests/unit/test_textfold.py).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import func, literal_column

ACCENTED = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆ"
    "ćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐő"
    "ŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛ"
    "ǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯ"
    "ȰȱȲȳ"
)
UNACCENTED = (
    "AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaC"
    "cCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOo"
    "RrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzOoUuAaIiOoUuUuUuUuU"
    "uAaAaGgKkOoOojGgNnAaAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOo"
    "OoYy"
)
"""The accented letters the fold must turn into their base letter, and those letters."""

COMBINING_MARKS = f"[{chr(0x300)}-{chr(0x36F)}]"
"""The marks dropped, as a regular expression both Python and PostgreSQL read alike. The
characters themselves, not `\\u` escapes, which a server with `standard_conforming_strings`
off would read differently."""
_MARKS = re.compile(COMBINING_MARKS)

POSTGRES_FOLD = f"regexp_replace(normalize({{column}}, NFD), '{COMBINING_MARKS}', '', 'g')"
"""The index's expression over `{column}`: PostgreSQL uses an expression index only for the
very same expression, so the search builds it from here (`folded_text`)."""


def fold_accents(words: str) -> str:
    """`words` as the search index holds text: decomposed, without combining marks."""
    return _MARKS.sub("", unicodedata.normalize("NFD", words))


def folded_text(column: Any) -> Any:
    """`POSTGRES_FOLD` over a column, as a SQLAlchemy expression with the index's constants
    (literals, not bound parameters: a parameter is not the index's expression)."""
    decomposed = func.normalize(column, literal_column("NFD"))
    return func.regexp_replace(decomposed, literal_column(f"'{COMBINING_MARKS}'"),
                               literal_column("''"), literal_column("'g'"))
