"""`scan_lines`: the JSON-lines contract of `socialdesk privacy scan`."""

from __future__ import annotations

import io
import json

from socialdesk.commands.privacy_scan import scan_lines
from socialdesk.privacy.detect import Detector


def test_round_trip() -> None:
    lines = [
        "Chiamatemi al 347 123 4567, grazie\n",
        "nessun dato qui 🙂\r\n",
        "  IBAN IT60X0542811101000000123456\n",
        "\n",
        "ultima riga senza a capo: mario@example.it",
    ]
    out = io.StringIO()
    assert scan_lines(lines, out, Detector()) == len(lines)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["text"] for r in records] == [
        "Chiamatemi al 347 123 4567, grazie",
        "nessun dato qui 🙂",
        "  IBAN IT60X0542811101000000123456",
        "",
        "ultima riga senza a capo: mario@example.it",
    ]
    assert all(set(r) == {"text", "entities"} for r in records)
    assert all(set(e) == {"type", "start", "end"} for r in records for e in r["entities"])
    spans = [[(e["type"], r["text"][e["start"]:e["end"]]) for e in r["entities"]] for r in records]
    assert spans == [
        [("PHONE", "347 123 4567")], [], [("IBAN", "IT60X0542811101000000123456")], [],
        [("EMAIL", "mario@example.it")],
    ]


def test_output_is_utf8_not_escaped() -> None:
    out = io.StringIO()
    scan_lines(["però 🙂\n"], out, Detector())
    assert out.getvalue() == '{"text": "però 🙂", "entities": []}\n'


def test_each_record_is_what_json_dumps_writes() -> None:
    """The fast encoder writes exactly the generic one's text, escapes included."""
    from pathlib import Path

    from socialdesk.commands.privacy_scan import scan_line

    data = Path(__file__).resolve().parents[1] / "data"
    texts = [json.loads(line)["text"] for line in
             (data / "privacy_tweets.jsonl").read_text(encoding="utf-8").splitlines()]
    texts += ['quote " backslash \\ tab \t', "\x00\x1f control", "\u2028 line sep 🙂",
              "CRO 12345678900 e IBAN IT60X0542811101000000123456"]
    detector = Detector(custom_patterns={'o"dd\\name': r"Q\d{5}"})
    texts.append("codice Q12345")
    out = io.StringIO()
    scan_lines([t.replace("\n", " ") + "\n" for t in texts], out, detector)
    expected = "".join(
        json.dumps(scan_line(t.replace("\n", " "), detector), ensure_ascii=False) + "\n"
        for t in texts)
    assert out.getvalue() == expected
