"""The shared oracle file (Presidio, python-stdnum, phonenumbers test suites).

Read at test time from `SOCIALDESK_SHARED` or `../shared`. Rows where the upstream oracles
disagree (and rows run at non-default Presidio settings or decided by our documented
policy) are reported, not failed; everything else must meet the goal.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from socialdesk.privacy.detect import Detector
from tests.privacy.evaluation import (
    DISAGREEMENT,
    JUDGED,
    classify_oracle_row,
    read_jsonl,
    score_oracles,
    shared_dir,
)

REPO = Path(__file__).resolve().parents[2]
GOAL = 0.98
CLAIMED_ORACLE_TYPES = {"PHONE", "EMAIL", "IBAN", "CARD", "IT_FISCAL_CODE", "IT_VAT"}


@pytest.fixture(scope="module")
def oracle_rows() -> list[dict]:
    shared = shared_dir(REPO)
    if shared is None:
        reason = "shared oracle file not found: set SOCIALDESK_SHARED or put shared/ by the repo"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return read_jsonl(shared / "testdata" / "pii_oracles.jsonl")


def test_judged_rows_meet_the_goal(oracle_rows: list[dict]) -> None:
    detector = Detector()
    report = score_oracles(oracle_rows, detector.scan, detector.regions)
    for bucket, rows in sorted(report.set_aside.items()):  # shown with -rP / on failure
        print(f"not counted ({bucket}): {len(rows)}")  # noqa: T201  (the report asked for)
        for row in rows:
            print(f"  {row}")  # noqa: T201
    assert set(report.scores) == CLAIMED_ORACLE_TYPES
    below = {
        t: (s.tp, s.fp, s.fn) for t, s in report.scores.items()
        if s.precision < GOAL or s.recall < GOAL
    }
    assert not below, f"below {GOAL}: {below}\n" + "\n".join(report.errors)


def test_disagreements_are_classified_not_failed(oracle_rows: list[dict]) -> None:
    regions = Detector().regions
    buckets = [classify_oracle_row(r, regions)[0] for r in oracle_rows]
    assert buckets.count(DISAGREEMENT) > 0
    assert buckets.count(JUDGED) > len(oracle_rows) // 2
    presidio_bad_cf = next(r for r in oracle_rows if r["text"] == "AAAAAA00B11C333N")
    assert classify_oracle_row(presidio_bad_cf, regions)[0] == DISAGREEMENT
