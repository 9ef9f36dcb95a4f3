"""Fingerprint of every detection over the privacy corpora: the guard for speed work.

    .venv/bin/python benchmarks/privacy_fingerprint.py [--dump FILE] [--compare FILE]

A change meant only to make the detector faster must leave this hash unchanged. It runs
three detector configurations (default; Italy only; brand numbers, addresses and a brand
pattern) over:

* the labelled support posts and customer tweets in `tests/data/` (with their thread
  context), the timing posts of `benchmarks/privacy.py` and the shared oracle texts;
* every pair of fragments of every kind, and variants of all of the texts made with a
  fixed seed: case changes, cuts, joins, characters swapped for digits, separators,
  signs and non-ASCII letters, fragments pasted in, and the same texts as replies to
  brand questions that ask for a code.

Every finding (type, start, end, value) goes into one SHA-256. `--dump` writes one line
per scan to compare against after a change; `--compare` prints the scans that differ.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from privacy import POSTS, TWEETS, timing_posts  # noqa: E402

from socialdesk.privacy.detect import Detector  # noqa: E402
from tests.privacy.evaluation import read_jsonl, shared_dir  # noqa: E402

SEED = 15
VARIANTS_PER_TEXT = 24
SWAPS = list("0123456789 +-./()@#:,İıéÀßx\nAZaz_'’") + ["  ", "n°", "IT", "IBAN ", "€"]
FRAGMENTS = [
    "+39 347 123 4567", "3471234567", "(415) 555-0132", "07911 123456", "800 123 456",
    "IT60X0542811101000000123456", "IT60 X054 2811 1010 0000 0123 456", "4012 8888 8888 1881",
    "RSSMRA45C12F205C", "P.IVA 00743110157", "IT 00743110157", "CRO 12345678900",
    "TRN 0306909606340322495308003010IT", "via Roma 12, 20121 Milano", "221 Baker Street",
    "ordine n. 4471203", "booking ref QX7P2L", "mario.rossi@example.it", "@brand", "#tag2024",
    "12/03/2025", "10:30", "€ 1.299,00", "v2.14.3", "AZ 1234", "https://x.com/a/status/18463728",
    "mario.rossi at gmail dot com", "anna[at]libero.it", "postcode LS8 2HP", "CAP 20121",
    "Flat 12, 4 High Street", "p.zza Duomo 3", "l'ordine", "c.f. RSSMRA45C12F205C",
    "tracking 0580 6036 0455 1234", "promo SAVE2024", "volo AZ 610", "ore 10.30",
    "codice cliente 88812345", "il negozio di via Roma 3", "12345678901", "0039 02 1234 5678",
]
QUESTIONS = [
    None, "What is your order number?", "Qual è il numero della pratica?",
    "Can you send us your booking reference?", "Ci indichi il codice fiscale, per favore",
    "Please DM us the CRO and the TRN of the transfer", "Thanks for reaching out!",
]


def detectors() -> list[tuple[str, Detector]]:
    return [
        ("default", Detector()),
        ("italy", Detector(regions=("IT",))),
        ("brand", Detector(
            regions=("GB", "IT"),
            custom_patterns={"order": r"ORD-(?P<value>\d{6})", "member": r"\bM\d{7}\b"},
            own_numbers=["+39 02 1234 5678", "800 123 456"],
            own_addresses=["via Roma 1, Milano", "221 Baker Street"],
        )),
    ]


def base_texts() -> list[tuple[str, str | None]]:
    """(text, brand's previous message) for every corpus text."""
    items: list[tuple[str, str | None]] = []
    for path in (POSTS, TWEETS):
        items += [(row["text"], row.get("context")) for row in read_jsonl(path)]
    items += [(text, None) for text in timing_posts(2_000)]
    shared = shared_dir(REPO)
    if shared is None:
        sys.exit("set SOCIALDESK_SHARED: the oracle texts are part of the fingerprint")
    items += [(row["text"], None) for row in read_jsonl(shared / "testdata" / "pii_oracles.jsonl")]
    return items


def variants(items: list[tuple[str, str | None]]) -> Iterator[tuple[str, str | None]]:
    rng = random.Random(SEED)
    texts = [text for text, _ in items]
    for first in FRAGMENTS:  # every kind before and after every other
        for second in FRAGMENTS:
            yield f"{first} {second}", None
            yield f"{first}{second}", rng.choice(QUESTIONS)
    for index, (text, context) in enumerate(items):
        yield text, context
        yield text, rng.choice(QUESTIONS)
        yield text.lower(), context
        yield text.upper(), context
        yield text.swapcase(), None
        yield text + " " + texts[(index + 1) % len(texts)], context
        yield text.replace(" ", ""), None
        for _ in range(VARIANTS_PER_TEXT):
            yield _mutated(rng, text, texts), rng.choice(QUESTIONS)


def _mutated(rng: random.Random, text: str, texts: list[str]) -> str:
    size = len(text)
    at = rng.randrange(size + 1)
    move = rng.randrange(6)
    if move == 0:
        return text[:at]
    if move == 1:
        return text[at:]
    if move == 2 and size:
        return text[:at] + rng.choice(SWAPS) + text[at + 1:]
    if move == 3:
        return text[:at] + " " + rng.choice(FRAGMENTS) + " " + text[at:]
    if move == 4:
        return text[:at] + rng.choice(FRAGMENTS) + text[at:]
    other = rng.choice(texts)
    return text[:at] + other[rng.randrange(len(other) + 1):]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", type=Path, help="write one JSON line per scan here")
    parser.add_argument("--compare", type=Path, help="print the scans that differ from a dump")
    args = parser.parse_args()
    corpus = list(variants(base_texts()))
    digest = hashlib.sha256()
    lines: list[str] = []
    found = 0
    for name, detector in detectors():
        for text, context in corpus:
            entities = [(e.type, e.start, e.end, e.value)
                        for e in detector.scan(text, context=context)]
            found += len(entities)
            line = json.dumps([name, text, context, entities], ensure_ascii=False)
            digest.update(line.encode() + b"\n")
            lines.append(line)
    print(f"{len(corpus)} texts × 3 detectors, {found} findings: {digest.hexdigest()}")
    if args.dump:
        args.dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.compare:
        before = args.compare.read_text(encoding="utf-8").splitlines()
        differ = [(old, new) for old, new in zip(before, lines, strict=True) if old != new]
        for old, new in differ[:20]:
            print(f"- {old}\n+ {new}")
        print(f"{len(differ)} scans differ")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
