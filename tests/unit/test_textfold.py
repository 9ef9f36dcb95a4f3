"""Accent folding for PostgreSQL's search: both sides of the index fold alike."""

from __future__ import annotations

import importlib.util
import unicodedata
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import socialdesk
from socialdesk.store.textfold import ACCENTED, UNACCENTED, fold_accents


def test_each_accented_letter_folds_to_its_base_letter() -> None:
    assert len(ACCENTED) == len(UNACCENTED) == len(set(ACCENTED))
    for accented, plain in zip(ACCENTED, UNACCENTED, strict=True):
        assert unicodedata.normalize("NFKD", accented)[0] == plain, accented


def test_italian_words_lose_their_accents_and_keep_their_case() -> None:
    assert fold_accents("Perché la CITTÀ è più bella") == "Perche la CITTA e piu bella"
    assert fold_accents("citta\u0300") == "citta"  # typed decomposed, composed first


def test_the_migrations_frozen_copy_is_the_searchs() -> None:
    """PostgreSQL uses the index only for the very expression the search sends."""
    path = Path(socialdesk.__file__).parent / "store/migrations/versions/0007_search_accents.py"
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert (migration.ACCENTED, migration.UNACCENTED) == (ACCENTED, UNACCENTED)


@given(st.text())
def test_folding_never_changes_length_of_composed_text_nor_adds_accents(words: str) -> None:
    composed = unicodedata.normalize("NFC", words)
    folded = fold_accents(words)
    assert len(folded) == len(composed)
    assert not set(folded) & set(ACCENTED)
