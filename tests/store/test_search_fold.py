"""PostgreSQL folds accents in its search index exactly as the typed words are folded."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from socialdesk.store.textfold import POSTGRES_FOLD, fold_accents

words = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=40)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(words, min_size=1, max_size=20))
def test_postgresql_folds_text_as_the_search_folds_words(store: Engine, texts: list[str]) -> None:
    if store.dialect.name != "postgresql":
        pytest.skip("SQLite folds in FTS5 (remove_diacritics), not with this expression")
    folded = POSTGRES_FOLD.format(column="value")
    with store.connect() as connection:
        rows = connection.exec_driver_sql(
            f"SELECT value, {folded} FROM unnest(%(texts)s::text[]) AS value",
            {"texts": texts + ["Perché la CITTÀ è più bella", "citta\u0300", "Ṩệờ 한국"]},
        ).all()
    for text, by_postgresql in rows:
        assert by_postgresql == fold_accents(text), text
