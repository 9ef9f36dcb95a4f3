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
