"""The config sections the rules read: privacy (mode, texts, patterns), published hours,
SLA and the acknowledgement; each validated when the file is read."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import re2
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PrivacyMode = Literal["auto", "suggest", "off"]
"""auto: the guard's actions are queued at once; suggest: they wait for an operator's key."""

_TEMPLATE_FIELDS = {
    "private_message": {"name", "types"},
    "public_pointer": {"name"},
    "public_pointer_link": {"name", "dm_link"},
}


PointerTexts = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1)]
"""One text or several: the guard takes them in turn for each customer, so two pointers to
the same person never read alike (X refuses a post that repeats an earlier one)."""


class PrivacyTemplateSettings(Strict):
    """The privacy guard's texts in one language. `{name}` is the customer's @handle on X,
    their name on Facebook; `{types}` the kinds of data found (never the values)."""

    private_message: Annotated[str, Field(min_length=1)]
    """The Facebook private reply or the X DM: the only message until the customer answers."""
    public_pointer: PointerTexts
    """The neutral public reply: points to the private channel, asks to delete the post.
    A list of wordings, used in turn for each customer."""
    public_pointer_link: PointerTexts
    """X, when the DM cannot be sent: the pointer with `{dm_link}` (a URL costs 20x on X)."""

    @field_validator("public_pointer", "public_pointer_link", mode="before")
    @classmethod
    def _one_or_several(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _known_placeholders(self) -> PrivacyTemplateSettings:
        for key, allowed in _TEMPLATE_FIELDS.items():
            texts = getattr(self, key)
            for text in (texts,) if isinstance(texts, str) else texts:
                used = set(re.findall(r"{(\w*)}", text))
                unknown = used - allowed
                if unknown:
                    raise ValueError(
                        f"{key}: unknown placeholder {{{sorted(unknown)[0]}}}; "
                        f"use {', '.join('{' + name + '}' for name in sorted(allowed))}"
                    )
        return self


TemplateLanguage = Literal["it", "en"]


def combined(openings: tuple[str, ...], closings: tuple[str, ...]) -> tuple[str, ...]:
    """Every opening with every closing, ordered so that consecutive texts differ in both:
    text i is opening i mod m and closing i mod n (m and n coprime, so all m*n differ)."""
    count = len(openings) * len(closings)
    return tuple(f"{openings[i % len(openings)]} {closings[i % len(closings)]}"
                 for i in range(count))


_IT_CLOSINGS = (
    "Per la tua sicurezza, cancella il messaggio che mostra i tuoi dati.",
    "Ti consigliamo di eliminare il post con i tuoi dati personali.",
    "Per proteggerti, cancella il post pubblico che contiene i tuoi dati.",
    "Per la tua privacy, elimina il messaggio pubblico con i tuoi dati.",
)
_EN_CLOSINGS = (
    "For your safety, please delete the post that shows your data.",
    "We suggest deleting the post with your personal data.",
    "To protect you, please delete the public post that contains your data.",
    "For your privacy, please remove the public message with your data.",
)

DEFAULT_PRIVACY_TEMPLATES: dict[TemplateLanguage, PrivacyTemplateSettings] = {
    "it": PrivacyTemplateSettings(
        private_message=(
            "Ciao {name}, ti scriviamo in privato perché il tuo messaggio pubblico mostrava "
            "dati personali ({types}). Continuiamo qui, dove restano tra noi. Non ti chiederemo "
            "mai password o codici di accesso."
        ),
        public_pointer=combined((
            "{name}, ti abbiamo scritto in privato.",
            "{name}, trovi la nostra risposta nei messaggi privati.",
            "{name}, ti abbiamo appena mandato un messaggio privato.",
            "{name}, continuiamo in privato: ti abbiamo già scritto lì.",
            "{name}, controlla i messaggi privati: ti abbiamo risposto lì.",
        ), _IT_CLOSINGS),
        public_pointer_link=combined((
            "{name}, scrivici in privato da qui: {dm_link}",
            "{name}, continuiamo in privato: {dm_link}",
            "{name}, ti aspettiamo in privato qui: {dm_link}",
        ), _IT_CLOSINGS),
    ),
    "en": PrivacyTemplateSettings(
        private_message=(
            "Hi {name}, we are writing privately because your public message showed personal "
            "data ({types}). Let's continue here, where it stays between us. We will never ask "
            "for passwords or access codes."
        ),
        public_pointer=combined((
            "{name}, we've sent you a private message.",
            "{name}, you'll find our answer in your private messages.",
            "{name}, we've just messaged you privately.",
            "{name}, let's continue in private: we've already written to you there.",
            "{name}, please check your private messages: we've answered there.",
        ), _EN_CLOSINGS),
        public_pointer_link=combined((
            "{name}, please message us privately here: {dm_link}",
            "{name}, let's continue in private: {dm_link}",
            "{name}, we're waiting for you in private here: {dm_link}",
        ), _EN_CLOSINGS),
    ),
}
"""Twenty pointers and twelve with the DM link per language, taken in turn per customer."""


class PrivacySettings(Strict):
    mode: PrivacyMode = "suggest"
    """What the guard does with a new public post that carries personal data."""
    templates: dict[TemplateLanguage, PrivacyTemplateSettings] = Field(
        default_factory=lambda: dict(DEFAULT_PRIVACY_TEMPLATES)
    )
    """Texts per language; a language left out keeps its default texts."""

    @field_validator("templates")
    @classmethod
    def _defaults_for_missing_languages(
        cls, value: dict[TemplateLanguage, PrivacyTemplateSettings]
    ) -> dict[TemplateLanguage, PrivacyTemplateSettings]:
        return {**DEFAULT_PRIVACY_TEMPLATES, **value}

    phone_regions: tuple[str, ...] = ("IT", "US", "GB")
    """Regions national-format phone numbers are parsed in, most likely first."""
    own_numbers: tuple[str, ...] = ()
    """The brand's published numbers: a customer quoting them exposes nothing."""
    patterns: dict[str, str] = Field(default_factory=dict)
    """Named regular expressions for the brand's own identifiers (CUSTOM:<name>), in RE2
    syntax: matched in linear time, so no pattern can hang a scan."""

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for name, pattern in value.items():
            compile_custom_pattern(name, pattern)
        return value


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print its own line to stderr besides ours
    return options


_RE2_OPTIONS = _re2_options()


def compile_custom_pattern(name: str, pattern: str) -> re2._Regexp:
    """A `[privacy.patterns]` entry compiled by RE2, which matches in time linear in the
    text: a pattern such as `(a+)+$` cannot hang a scan or a sync as Python's backtracking
    `re` would. RE2 has no lookarounds or backreferences; such a pattern is refused here,
    when the config is read, in one line."""
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as error:
        reason = error.args[0].decode() if error.args and isinstance(
            error.args[0], bytes) else str(error)
        raise ValueError(
            f"pattern {name!r} is not a valid RE2 regular expression ({reason}); "
            "lookarounds and backreferences are not supported"
        ) from None


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_OPENING = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]|24):([0-5][0-9])$")


def parse_opening(text: str) -> tuple[time, time | None]:
    """"09:00-13:00" as (start, end); an end of "24:00" is None, meaning midnight."""
    match = _OPENING.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an opening like \"09:00-13:00\"")
    start = time(int(match[1]), int(match[2]))
    if match[3] == "24":
        if match[4] != "00":
            raise ValueError(f"{text!r}: the latest closing time is 24:00")
        return start, None
    end = time(int(match[3]), int(match[4]))
    if end <= start:
        raise ValueError(f"{text!r}: an opening must close after it opens, on the same day")
    return start, end


def check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name like \"Europe/Rome\""
        ) from None
    return value


DEFAULT_TIMEZONE = "Europe/Rome"
"""The desk's zone when the config names none: times shown, report days, opening hours."""


class HoursSettings(Strict):
    """Published staff hours (seed 002): weekly openings in a time zone, minus closed days."""

    timezone: str = DEFAULT_TIMEZONE
    """IANA time zone the openings are written in; an account may override it."""
    mon: tuple[str, ...] = ("09:00-18:00",)
    tue: tuple[str, ...] = ("09:00-18:00",)
    wed: tuple[str, ...] = ("09:00-18:00",)
    thu: tuple[str, ...] = ("09:00-18:00",)
    fri: tuple[str, ...] = ("09:00-18:00",)
    sat: tuple[str, ...] = ()
    sun: tuple[str, ...] = ()
    holidays: tuple[date, ...] = ()
    """Extra closed dates (company holidays, bridges)."""
    public_holidays: str = "IT"
    """Country whose public holidays close the desk (ISO code, `holidays` library); "" for none."""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return check_timezone(value) or value

    @field_validator(*WEEKDAYS)
    @classmethod
    def _openings_do_not_overlap(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        spans = sorted(parse_opening(text) for text in value)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            if end is None or start < end:
                raise ValueError("openings of one day must not overlap")
        return value

    @field_validator("public_holidays")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError('must be a two-letter country code such as "IT", or ""')
        return value

    @model_validator(mode="after")
    def _opens_some_day(self) -> HoursSettings:
        if not any(getattr(self, day) for day in WEEKDAYS):
            raise ValueError("the desk must open on at least one weekday")
        return self


class SlaSettings(Strict):
    first_response_minutes: Annotated[int, Field(ge=1, le=30 * 24 * 60)] = 240
    """Business minutes a first answer may take (counted inside `[hours]`)."""
    check_seconds: Annotated[int, Field(ge=10, le=3600)] = 60
    """How often `socialdesk run` looks for conversations past their due time."""


class AcknowledgementTemplate(Strict):
    """The acknowledgement in one language; `{when}` is the latest time of the answer."""

    open: str
    """Sent while the desk is open: "ti risponderemo entro {when}"."""
    closed: str
    """Sent outside the published hours: "siamo fuori orario: ti risponderemo entro {when}"."""

    @field_validator("open", "closed")
    @classmethod
    def _says_when(cls, value: str) -> str:
        if "{when}" not in value:
            raise ValueError("must contain {when}, the latest time of the answer")
        try:
            value.format(when="w", time="t", date="d")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"unknown placeholder {error}; use {{when}}, {{time}} or "
                             "{date}") from None
        return value


DEFAULT_ACKNOWLEDGEMENTS = {
    "it": AcknowledgementTemplate(
        open="Grazie del messaggio! Ti risponderemo entro {when}.",
        closed="Grazie del messaggio! Ora siamo fuori orario: ti risponderemo entro {when}.",
    ),
    "en": AcknowledgementTemplate(
        open="Thanks for your message! We will answer by {when}.",
        closed="Thanks for your message! We are outside our hours now: we will answer by {when}.",
    ),
}


class AcknowledgementSettings(Strict):
    """One automatic message per new private conversation saying when the answer will come
    (seed 004). Never in public; only inside the platform's window for automatic replies."""

    enabled: bool = False
    max_age_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    """Only conversations opened this recently: the first sync must not write to old ones."""
    default_language: str = "it"
    """Used when the customer's language is not recognised as Italian or English."""
    templates: dict[str, AcknowledgementTemplate] = Field(
        default_factory=lambda: dict(DEFAULT_ACKNOWLEDGEMENTS)
    )

    @model_validator(mode="after")
    def _default_has_a_template(self) -> AcknowledgementSettings:
        if self.default_language not in self.templates:
            raise ValueError(f"default_language {self.default_language!r} has no template; "
                             f"templates: {', '.join(sorted(self.templates))}")
        return self


POLL_SECONDS_RANGE = (2, 86_400)
"""Below 2 s every poll is an API call with nothing new; above a day a queue is not fresh."""


def check_poll_seconds(
    value: dict[str, int], defaults: dict[str, int], platform: str
) -> dict[str, int]:
    """A platform's `poll_seconds`: known streams only, each in range, defaults filled in."""
    unknown = set(value) - set(defaults)
    if unknown:
        raise ValueError(f"{platform} has no stream {sorted(unknown)[0]!r}; "
                         f"streams: {', '.join(defaults)}")
    low, high = POLL_SECONDS_RANGE
    for stream, seconds in value.items():
        if not low <= seconds <= high:
            raise ValueError(f"{stream}: poll interval must be {low} to {high} seconds")
    return {**defaults, **value}


def fast_poll_intervals(
    value: dict[str, int], defaults: dict[str, int], slowest: dict[str, int], platform: str
) -> dict[str, int]:
    """A platform's `fast_poll_seconds`, defaults filled in: never slower than the stream's
    `poll_seconds` (a default is lowered to it; an explicit value above it is refused)."""
    checked = check_poll_seconds(value, {s: defaults.get(s, slowest[s]) for s in slowest},
                                 platform)
    for stream, seconds in value.items():
        if seconds > slowest[stream]:
            raise ValueError(f"{stream} ({seconds}) is above "
                             f"poll_seconds.{stream} ({slowest[stream]}): the fast interval is "
                             "the one used while customers are writing")
    return {stream: min(seconds, slowest[stream]) for stream, seconds in checked.items()}
