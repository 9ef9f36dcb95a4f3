"""Score the detector against labelled posts and the shared oracle file.

Used by `benchmarks/privacy.py` and by the tests, so both count the same way:
a gold entity is found when a predicted entity of a compatible type overlaps it; a
predicted entity of a judged type that overlaps no gold entity is a false positive.

The oracle file (`testdata/pii_oracles.jsonl`, see its README) mixes three upstream test
suites that disagree. Rows are therefore sorted into buckets before counting:

* ``judged``: counted in precision/recall;
* ``disagreement``: the upstream label contradicts the other oracle
  (`crosscheck_not_from_source`), e.g. Presidio's checksum-less fiscal codes or
  phonenumbers' test-metadata numbers: reported, not counted;
* ``non_default_config``: Presidio rows run at a non-default phone leniency;
* ``policy``: rows our documented policy decides differently (PLATFORMS.md: a bare
  11-digit partita IVA / company fiscal code needs a context word; phone numbers in
  national format of a region that is not configured are not phones);
* ``unclaimed``: types we do not detect yet (driver licence, identity card, passport).
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException

from socialdesk.privacy.detect import Entity

ORACLE_TYPE_MAP: Mapping[str, str] = {
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "IBAN_CODE": "IBAN",
    "CREDIT_CARD": "CARD",
    "IT_FISCAL_CODE": "IT_FISCAL_CODE",
    "IT_VAT_CODE": "IT_VAT",
}
# A company's codice fiscale is its partita IVA: either label is a hit for the other.
_COMPATIBLE: Mapping[str, frozenset[str]] = {
    "IT_FISCAL_CODE": frozenset({"IT_FISCAL_CODE", "IT_VAT"}),
    "IT_VAT": frozenset({"IT_VAT", "IT_FISCAL_CODE"}),
}
_VAT_CONTEXT_RE = re.compile(
    r"p\.?\s?iva|partita\s+iva|\bvat\b|codice\s+fiscale|\bc\.?f\.?\b|\bIT\b", re.I
)

JUDGED = "judged"
DISAGREEMENT = "disagreement"
NON_DEFAULT_CONFIG = "non_default_config"
POLICY = "policy"
UNCLAIMED = "unclaimed"


@dataclass(frozen=True)
class GoldEntity:
    type: str
    start: int
    end: int
    value: str


@dataclass
class TypeScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Report:
    """Per-type scores plus the rows that were not counted and the errors that were."""

    scores: dict[str, TypeScore] = field(default_factory=lambda: defaultdict(TypeScore))
    set_aside: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    rows: int = 0


def compatible(gold_type: str, predicted_type: str) -> bool:
    return predicted_type in _COMPATIBLE.get(gold_type, frozenset({gold_type}))


def score_row(
    report: Report,
    text: str,
    gold: Sequence[GoldEntity],
    predicted: Sequence[Entity],
    judged_types: Iterable[str],
) -> None:
    """Add one row's true/false positives and misses, for `judged_types` only."""
    judged = set(judged_types)
    report.rows += 1
    for g in gold:
        if g.type not in judged:
            continue
        hit = any(
            compatible(g.type, p.type) and p.start < g.end and g.start < p.end for p in predicted
        )
        report.scores[g.type].tp += hit
        report.scores[g.type].fn += not hit
        if not hit:
            report.errors.append(f"miss {g.type} {g.value!r} in {text!r}")
    for p in predicted:
        judged_as = next((t for t in judged if compatible(t, p.type)), None)
        if judged_as is None:
            continue
        if not any(_overlap(g, p) and compatible(g.type, p.type) for g in gold):
            report.scores[judged_as].fp += 1
            report.errors.append(f"false {p.type} {p.value!r} in {text!r}")


def _overlap(a: GoldEntity | Entity, b: GoldEntity | Entity) -> bool:
    return a.start < b.end and b.start < a.end


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# -- labelled posts ---------------------------------------------------------------------


def score_labelled(rows: Iterable[Mapping[str, Any]], scan: Callable[[str], list[Entity]],
                   types: Iterable[str]) -> Report:
    """Every claimed type is judged on every labelled post."""
    report = Report()
    judged = tuple(types)
    for row in rows:
        gold = [GoldEntity(e["type"], e["start"], e["end"], e["value"]) for e in row["entities"]]
        score_row(report, row["text"], gold, scan(row["text"]), judged)
    return report


def score_posts(
    rows: Iterable[Mapping[str, Any]],
    scan: Callable[[str, str | None], list[Entity]],
    types: Iterable[str],
) -> Report:
    """Post level, per kind: does the post hold that kind, and did the detector say so?

    The figure a user sees (the queue marker, the redirect): a post with two phone numbers
    found once is a hit; a post flagged for a kind it does not hold is a false positive.
    `scan(text, context)` gets each row's `context` (the brand's previous message) or None.
    """
    report = Report()
    judged = tuple(types)
    for row in rows:
        text = row["text"]
        gold = {e["type"] for e in row["entities"]}
        predicted = scan(text, row.get("context"))
        report.rows += 1
        for kind in judged:
            found = [p for p in predicted if compatible(kind, p.type)]
            if kind in gold:
                report.scores[kind].tp += bool(found)
                report.scores[kind].fn += not found
                if not found:
                    report.errors.append(f"miss {kind} in {text!r}")
            elif any(p.type == kind for p in predicted) and not any(
                compatible(g, kind) for g in gold
            ):
                report.scores[kind].fp += 1
                values = ", ".join(repr(p.value) for p in predicted if p.type == kind)
                report.errors.append(f"false {kind} {values} in {text!r}")
            else:
                report.scores[kind]  # noqa: B018  (every judged kind gets a row)
    return report


# -- oracle file ------------------------------------------------------------------------


def classify_oracle_row(row: Mapping[str, Any], regions: Sequence[str]) -> tuple[str, str]:
    """(bucket, reason) for one oracle record; see the module docstring."""
    types = [ORACLE_TYPE_MAP.get(t) for t in row["annotated_types"]]
    if not all(types):
        return UNCLAIMED, f"type(s) {row['annotated_types']} not claimed"
    if row.get("config"):
        return NON_DEFAULT_CONFIG, f"presidio config {row['config']}"
    reason = _disagreement(row)
    if reason:
        return DISAGREEMENT, reason
    reason = _policy(row, regions)
    if reason:
        return POLICY, reason
    return JUDGED, ""


def _disagreement(row: Mapping[str, Any]) -> str:
    cross = row.get("crosscheck_not_from_source") or {}
    positive = row["polarity"] == "positive"
    stdnum_valid = cross.get("python_stdnum_is_valid") or {}
    golden = {e["value"] for e in row["entities"]}
    for value, valid in stdnum_valid.items():
        if positive and value in golden and not valid:
            return f"{row['oracle']} says {value!r} is valid; python-stdnum rejects it"
        if not positive and valid:
            return f"{row['oracle']} says {value!r} is invalid; python-stdnum accepts it"
    if positive and cross.get("is_valid_real_metadata") is False:
        return "valid only under phonenumbers' test metadata, not the real one"
    return ""


def _policy(row: Mapping[str, Any], regions: Sequence[str]) -> str:
    text = row["text"]
    for entity in row["entities"]:
        value = entity["value"]
        mapped = ORACLE_TYPE_MAP.get(entity["type"], entity["type"])
        if mapped in ("IT_VAT", "IT_FISCAL_CODE") and value.isdigit() and len(value) == 11:
            if not _VAT_CONTEXT_RE.search(text):
                return "bare 11 digits without a context word (collides with phone numbers)"
        if mapped == "PHONE" and not value.lstrip().startswith("+"):
            if not _valid_in_any(value, regions):
                return f"national number not valid in the configured regions {list(regions)}"
    return ""


def _valid_in_any(value: str, regions: Sequence[str]) -> bool:
    for region in regions:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(value, region)):
                return True
        except NumberParseException:
            continue
    return False


def score_oracles(rows: Iterable[Mapping[str, Any]], scan: Callable[[str], list[Entity]],
                  regions: Sequence[str]) -> Report:
    report = Report()
    for row in rows:
        bucket, reason = classify_oracle_row(row, regions)
        if bucket != JUDGED:
            predicted = scan(row["text"])
            outcome = _outcome(row, predicted)
            report.set_aside[bucket].append(
                f"{row['text'][:70]!r} [{row['oracle']}] {reason}; we: {outcome}"
            )
            continue
        judged = [ORACLE_TYPE_MAP[t] for t in row["annotated_types"]]
        gold = [
            GoldEntity(ORACLE_TYPE_MAP[e["type"]], e["start"], e["end"], e["value"])
            for e in row["entities"] if e["type"] in ORACLE_TYPE_MAP
        ]
        score_row(report, row["text"], gold, scan(row["text"]), judged)
    return report


def _outcome(row: Mapping[str, Any], predicted: Sequence[Entity]) -> str:
    judged = {ORACLE_TYPE_MAP.get(t) for t in row["annotated_types"]}
    hits = [p for p in predicted if any(t and compatible(t, p.type) for t in judged)]
    return "flagged " + ", ".join(f"{p.type} {p.value!r}" for p in hits) if hits else "not flagged"


def shared_dir(repo_root: Path) -> Path | None:
    """`SOCIALDESK_SHARED`, else the `shared` folder beside the repository."""
    env = os.environ.get("SOCIALDESK_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(repo_root.parent / "shared")
    return next((c for c in candidates if (c / "testdata" / "pii_oracles.jsonl").is_file()), None)
