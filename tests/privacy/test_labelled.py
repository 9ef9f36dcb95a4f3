"""The labelled support posts: reproducible, well-formed, and scored against the goal."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from socialdesk.privacy.detect import ENTITY_TYPES, Detector
from tests.privacy.evaluation import read_jsonl, score_labelled

DATA = Path(__file__).resolve().parents[1] / "data"
POSTS = DATA / "privacy_posts.jsonl"
GOAL = 0.98
MIN_POSTS = 300


def load_builder():
    path = DATA / "build_privacy_posts.py"
    spec = importlib.util.spec_from_file_location("build_privacy_posts", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return read_jsonl(POSTS)


def test_file_is_what_the_builder_writes() -> None:
    builder = load_builder()
    assert POSTS.read_text(encoding="utf-8") == builder.serialise(builder.build()), (
        "run: python tests/data/build_privacy_posts.py"
    )


def test_shape(rows: list[dict]) -> None:
    assert len(rows) >= MIN_POSTS
    pii = [r for r in rows if r["kind"] == "pii"]
    lookalike = [r for r in rows if r["kind"] == "lookalike"]
    assert abs(len(pii) - len(lookalike)) <= len(rows) // 10, "about half and half"
    assert all(r["entities"] for r in pii) and not any(r["entities"] for r in lookalike)
    for row in pii:
        for e in row["entities"]:
            assert row["text"][e["start"]:e["end"]] == e["value"]
            assert e["type"] in ENTITY_TYPES
    assert {e["type"] for r in pii for e in r["entities"]} == set(ENTITY_TYPES)


def test_precision_and_recall_per_type(rows: list[dict]) -> None:
    report = score_labelled(rows, Detector().scan, ENTITY_TYPES)
    below = {
        t: (round(s.precision, 3), round(s.recall, 3))
        for t, s in report.scores.items() if s.precision < GOAL or s.recall < GOAL
    }
    assert not below, f"below {GOAL}: {below}\n" + "\n".join(report.errors)
    assert set(report.scores) == set(ENTITY_TYPES)
