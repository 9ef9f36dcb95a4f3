"""Accent folding for PostgreSQL's search: both sides of the index fold alike.

PostgreSQL's own fold is compared with this one in tests/store/test_search_fold.py."""

from __future__ import annotations

import importlib.util
import unicodedata
from pathlib import Path
from types import ModuleType

from hypothesis import given
from hypothesis import strategies as st

import socialdesk
from socialdesk.store.textfold import ACCENTED, POSTGRES_FOLD, UNACCENTED, fold_accents


def test_each_accented_letter_folds_to_its_base_letter() -> None:
    """The letters the index of migration 0007 folded still fold, each to the same letter."""
    assert len(ACCENTED) == len(UNACCENTED) == len(set(ACCENTED))
    for accented, plain in zip(ACCENTED, UNACCENTED, strict=True):
        assert unicodedata.normalize("NFKD", accented)[0] == plain, accented
        assert fold_accents(accented) == plain, accented


def test_italian_words_lose_their_accents_and_keep_their_case() -> None:
    assert fold_accents("Perché la CITTÀ è più bella") == "Perche la CITTA e piu bella"
    assert fold_accents("citta\u0300") == "citta"  # typed decomposed, composed first


def _migration(name: str) -> ModuleType:
    path = Path(socialdesk.__file__).parent / f"store/migrations/versions/{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


def test_the_migrations_frozen_copy_is_the_searchs() -> None:
    """PostgreSQL uses the index only for the very expression the search sends."""
    assert _migration("0012_cheaper_search_fold").POSTGRES_FOLD == POSTGRES_FOLD
    old = _migration("0007_search_accents")
    assert (old.ACCENTED, old.UNACCENTED) == (ACCENTED, UNACCENTED)
    downgrade = _migration("0012_cheaper_search_fold")
    assert (downgrade.ACCENTED_0007, downgrade.UNACCENTED_0007) == (ACCENTED, UNACCENTED)


@given(st.text())
def test_folding_leaves_no_accent_and_folds_folded_text_to_itself(words: str) -> None:
    folded = fold_accents(words)
    assert fold_accents(folded) == folded
    assert not set(folded) & set(ACCENTED)
    assert not any(0x300 <= ord(character) <= 0x36F for character in folded)
