"""The sandbox's simulated customers and what they write: names, handles, voices, personal data.

Every draw comes from the `random.Random` the scenario hands in, so a seed always gives
the same people saying the same things.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from socialdesk.sandbox import texts

PUBLIC_PII_RATE = 0.2


@dataclass(frozen=True)
class Customer:
    """One simulated person, present on both platforms (so contacts can be linked)."""

    lang: str
    first: str
    last: str
    x_id: str
    handle: str
    fb_id: str
    email: str
    order: str
    fiscal_code: str
    accepts_dms: bool

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def _ascii(value: str) -> str:
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().replace(" ", "")


def make_customer(rng: random.Random) -> Customer:
    lang = "it" if rng.random() < 0.65 else "en"
    first, last = rng.choice(texts.FIRST_NAMES[lang]), rng.choice(texts.LAST_NAMES[lang])
    handle = (
        f"{_ascii(first).lower()}{_ascii(last)[: rng.randint(1, 6)].lower()}{rng.randint(1, 99)}"
    )
    return Customer(
        lang=lang,
        first=first,
        last=last,
        x_id=str(rng.randint(10**8, 10**18)),
        handle=handle[:15],
        fb_id=str(rng.randint(10**15, 10**16 - 1)),
        email=f"{_ascii(first).lower()}.{_ascii(last).lower()}{rng.randint(70, 99)}@gmail.com",
        order=str(rng.randint(4_000_000, 4_999_999)),
        fiscal_code=rng.choice(texts.FISCAL_CODES),
        accepts_dms=rng.random() > 0.12,
    )


@dataclass
class Line:
    """A sentence a customer or the brand writes, with the personal data it carries."""

    text: str
    pii: tuple[str, ...] = ()


class Voice:
    """Turns a customer, a topic and the rng into what they would write."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def public(self, who: Customer, topic: str, again: bool = False) -> Line:
        """A public post or comment; about one in five carries personal data."""
        base = self._base(who, topic, again)
        if self.rng.random() >= PUBLIC_PII_RATE:
            return Line(base)
        kind = self.rng.choice(sorted(texts.PII_PHRASES))
        phrase = self._fill(self.rng.choice(texts.PII_PHRASES[kind][who.lang]), who)
        return Line(_join(base, phrase), (kind,))

    def private(self, who: Customer, topic: str, again: bool = False) -> Line:
        """A DM or Messenger message: customers share order numbers freely in private."""
        base = self._base(who, topic, again)
        detail = self.rng.choice(texts.PRIVATE_DETAILS[who.lang])
        if not detail:
            return Line(base)
        return Line(_join(base, self._fill(detail, who)), ("REFERENCE",))

    def me_too(self, who: Customer) -> Line:
        return Line(self.rng.choice(texts.ME_TOO[who.lang]))

    def brand(self, who: Customer) -> Line:
        return Line(self.rng.choice(texts.BRAND_REPLIES[who.lang]).format(first=who.first))

    def _base(self, who: Customer, topic: str, again: bool) -> str:
        pool = texts.FOLLOW_UPS[who.lang] if again else texts.OPENERS[topic][who.lang]
        return self.rng.choice(pool)

    @staticmethod
    def _fill(template: str, who: Customer) -> str:
        return template.format(email=who.email, order=who.order, fiscal_code=who.fiscal_code)


def _join(base: str, extra: str) -> str:
    """Glue a clause to a sentence the way people type: comma, or a new sentence after ?!."""
    if base.rstrip()[-1:] in "?!.…🙏😡😕":
        return f"{base} {capitalised(extra)}"
    return f"{base}, {extra}"


def capitalised(text: str) -> str:
    """The text with its first letter upper-cased, the rest untouched."""
    return text[:1].upper() + text[1:]

