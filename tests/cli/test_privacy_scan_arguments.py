"""`socialdesk privacy scan "text one" "text two"`: each argument scanned whole, as a user
tries a sentence without piping it."""

from __future__ import annotations

import json

from tests.support import run_cli


def test_each_argument_is_one_text_and_stdin_is_not_read() -> None:
    texts = ["chiamatemi al +39 347 123 4567 grazie", "riga uno\nmail: mario@example.it"]
    result = run_cli("privacy", "scan", *texts, stdin="+39 347 765 4321\n")
    assert result.returncode == 0, result.stderr
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["text"] for o in outputs] == texts
    (phone,) = outputs[0]["entities"]
    assert texts[0][phone["start"]:phone["end"]] == "+39 347 123 4567"
    (email,) = outputs[1]["entities"]
    assert email["type"] == "EMAIL"
    assert texts[1][email["start"]:email["end"]] == "mario@example.it"


def test_without_arguments_stdin_lines_are_scanned_as_before() -> None:
    result = run_cli("privacy", "scan", stdin="nessun dato\n+39 347 123 4567\n")
    assert result.returncode == 0, result.stderr
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["text"] for o in outputs] == ["nessun dato", "+39 347 123 4567"]
    assert [len(o["entities"]) for o in outputs] == [0, 1]
