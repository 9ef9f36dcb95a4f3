"""The words of the privacy guard: private message, public pointer, in Italian or English.

Texts come from `[privacy.templates.<language>]` in config. A pointer has several
wordings, taken in turn for each customer (`variant`, the count of their earlier redirects):
X refuses a post that repeats one of the account's own, so a second pointer to the same
person must read differently. A public text is checked
against the personal data found in the customer's post before it leaves this module: if
any value would show again (a display name that carries a phone number, say), the
customer's name is dropped, and if the data still shows the public text is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from socialdesk.platforms.contract import RedirectTexts
from socialdesk.privacy.detect import CUSTOM_PREFIX
from socialdesk.rules_config import PrivacyTemplateSettings

MIN_LEAK_CHARS = 4
"""Values shorter than this (letters and digits) are compared whole, not as substrings."""

TYPE_NAMES: Mapping[str, Mapping[str, str]] = {
    "it": {
        "PHONE": "numero di telefono", "EMAIL": "indirizzo e-mail", "IBAN": "IBAN",
        "CARD": "numero di carta", "IT_FISCAL_CODE": "codice fiscale", "IT_VAT": "partita IVA",
        "CRO": "CRO", "TRN": "TRN", "ADDRESS": "indirizzo", "REFERENCE": "numero di pratica",
        CUSTOM_PREFIX: "codice cliente",
    },
    "en": {
        "PHONE": "phone number", "EMAIL": "e-mail address", "IBAN": "IBAN",
        "CARD": "card number", "IT_FISCAL_CODE": "tax code", "IT_VAT": "VAT number",
        "CRO": "CRO", "TRN": "TRN", "ADDRESS": "address", "REFERENCE": "reference number",
        CUSTOM_PREFIX: "customer code",
    },
}

_ALNUM_RE = re.compile(r"[^\W_]+")


class _Valued(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def value(self) -> str: ...


class PublicTextRefused(ValueError):
    """The public text would repeat the customer's personal data; nothing public is sent."""


def type_names(types: Iterable[str], language: str) -> str:
    """"numero di telefono, IBAN": the kinds of data found, never the values."""
    names = TYPE_NAMES.get(language, TYPE_NAMES["en"])
    seen: list[str] = []
    for entity_type in types:
        key = CUSTOM_PREFIX if entity_type.startswith(CUSTOM_PREFIX) else entity_type
        name = names.get(key, key)
        if name not in seen:
            seen.append(name)
    return ", ".join(seen)


def redirect_texts(
    templates: PrivacyTemplateSettings,
    language: str,
    name: str,
    entities: Sequence[_Valued],
    dm_link: str | None = None,
    variant: int = 0,
) -> RedirectTexts:
    """The three texts for one post; public ones never repeat a value in `entities`.
    `variant` picks the pointer's wording (in turn: the customer's earlier redirects).

    Raises:
        PublicTextRefused: the configured public text itself contains the data.
    """
    fields = {"types": type_names([e.type for e in entities], language)}
    return RedirectTexts(
        language=language,
        private_message=render(templates.private_message, name=name, **fields),
        public_pointer=public_text(in_turn(templates.public_pointer, variant), name, entities),
        public_pointer_with_link=(
            public_text(in_turn(templates.public_pointer_link, variant), name, entities,
                        dm_link=dm_link)
            if dm_link else None
        ),
    )


def in_turn(wordings: Sequence[str], variant: int) -> str:
    """The wording for a customer's `variant`-th redirect: consecutive ones always differ."""
    return wordings[variant % len(wordings)]


def public_text(template: str, name: str, entities: Sequence[_Valued], **fields: str) -> str:
    """`template` rendered for everyone to read, with the customer's name only if it is safe."""
    text = render(template, name=name, **fields)
    if not repeats_personal_data(text, entities):
        return text
    text = render(template, name="", **fields)
    if repeats_personal_data(text, entities):
        raise PublicTextRefused("the public template itself repeats the customer's data")
    return text


def render(template: str, **fields: str) -> str:
    """Fill the placeholders; one space between words, the first letter upper case."""
    text = " ".join(template.format_map(_Fields(fields)).split())
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = text.lstrip(" ,;:")
    return text[:1].upper() + text[1:]


def repeats_personal_data(text: str, entities: Iterable[_Valued]) -> bool:
    """True when the letters and digits of any value show up in `text`, ignoring spacing.

    "347 123 4567" is found in "3471234567" and in "347-123-4567" alike; short values
    (under `MIN_LEAK_CHARS` letters and digits) count only as a whole word.
    """
    squashed = "".join(_ALNUM_RE.findall(text.casefold()))
    words = set(_ALNUM_RE.findall(text.casefold()))
    for entity in entities:
        value = "".join(_ALNUM_RE.findall(entity.value.casefold()))
        if not value:
            continue
        if value in words or (len(value) >= MIN_LEAK_CHARS and value in squashed):
            return True
    return False


class _Fields(dict[str, str]):
    """Known placeholders; config validation has already refused unknown ones."""

    def __missing__(self, key: str) -> str:
        return ""
