"""Saved replies come first when they are about what the customer asks (issue 17, point 10):
a refund complaint got "reinstalla l'app e reimposta la password" first.

Checked on the saved replies socialdesk ships (the demo's and config.example.toml's) against
the customers' messages the sandbox sends in the demo.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from socialdesk.sandbox.options import sandbox_config_text
from socialdesk.sandbox.texts import OPENERS
from socialdesk.tui.context import SavedReply
from socialdesk.tui.saved_replies import suggest

EXAMPLE_CONFIG = Path(__file__).parents[2] / "config.example.toml"

FIRST_FOR = {
    # topic of the sandbox's customer messages -> the reply that must come first, per language
    "refund": {"en": "refund", "it": "rimborso"},
    "login": {"en": "login-help", "it": "accesso-app"},
    "delivery": {"en": "order-late", "it": "ordine-in-ritardo"},
}


def _saved(toml_text: str) -> list[SavedReply]:
    return [SavedReply(reply["name"], reply["language"], reply["text"])
            for reply in tomllib.loads(toml_text)["saved_replies"]]


SHIPPED = {
    "demo": _saved(sandbox_config_text("http://127.0.0.1:1", "sqlite://")),
    "config.example.toml": _saved(EXAMPLE_CONFIG.read_text(encoding="utf-8")),
}

CASES = [pytest.param(shipped, topic, language, text, id=f"{shipped}-{topic}-{language}-{n}")
         for shipped in SHIPPED for topic, first in FIRST_FOR.items()
         for language in first for n, text in enumerate(OPENERS[topic][language])]


@pytest.mark.parametrize(("shipped", "topic", "language", "message"), CASES)
def test_the_reply_about_the_customers_question_comes_first(
    shipped: str, topic: str, language: str, message: str
) -> None:
    first = suggest(SHIPPED[shipped], message)[0]
    assert first.name == FIRST_FOR[topic][language], message


def test_a_refund_complaint_does_not_get_the_password_reply_first() -> None:
    """The case in the issue, with the demo's replies."""
    ranked = [reply.name for reply in suggest(
        SHIPPED["demo"], "ho reso la lampada tre settimane fa e il rimborso non è ancora arrivato")]
    assert ranked[0] == "rimborso"
    assert "accesso-app" not in ranked[:2]


def test_a_misspelt_word_still_finds_its_reply() -> None:
    assert suggest(SHIPPED["demo"], "dov'è il mio rimborzo??")[0].name == "rimborso"


def test_the_customers_language_comes_first_among_replies_about_the_question() -> None:
    """An English and an Italian password reply share "app" and "password" with both."""
    assert suggest(SHIPPED["demo"], "la password dell'app non funziona")[0].name == "accesso-app"
    assert suggest(SHIPPED["demo"], "the app says my password is wrong")[0].name == "login-help"


def test_replies_about_nothing_asked_keep_the_config_order() -> None:
    replies = [SavedReply("a", "en", "Hi {name}, first."), SavedReply("b", "en", "Second one.")]
    assert [r.name for r in suggest(replies, "completely unrelated words here")] == ["a", "b"]


def test_no_saved_replies_no_suggestions() -> None:
    assert suggest([], "anything") == []
