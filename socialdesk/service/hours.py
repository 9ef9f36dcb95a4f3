"""Business hours, holidays and SLA arithmetic: when the desk is open and when an answer is due.

Pure: no database, no clock of its own. Opening hours are wall-clock times in the desk's
time zone, turned into UTC instants day by day, so a day with a DST change is as long as
it really is (an opening of 01:00-04:00 on the last Sunday of October lasts four real
hours in Europe/Rome). Business time is real elapsed time inside openings.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

from socialdesk.config import AccountConfig
from socialdesk.rules_config import (
    DEFAULT_TIMEZONE,
    WEEKDAYS,
    AcknowledgementTemplate,
    HoursSettings,
    parse_opening,
)

SEARCH_DAYS = 2 * 366
"""How far ahead an opening is looked for; config guarantees a weekday with hours, so only a
calendar of holidays covering two whole years could exhaust it."""
ONE_MINUTE = timedelta(minutes=1)
ONE_DAY = timedelta(days=1)

Opening = tuple[datetime, datetime]
"""One opening as aware UTC instants, start inclusive, end exclusive."""


@dataclass(frozen=True)
class BusinessHours:
    """The published hours of one desk: weekly openings, a time zone and closed dates."""

    zone: ZoneInfo
    week: tuple[tuple[tuple[time, time | None], ...], ...]
    """Seven entries, Monday first; each a sorted tuple of (start, end); end None = midnight."""
    closed_dates: frozenset[date] = frozenset()
    public_holidays: str | None = None
    """ISO country code whose public holidays close the desk (the `holidays` library)."""

    @classmethod
    def from_settings(cls, settings: HoursSettings, timezone: str | None = None) -> BusinessHours:
        """Hours from config; `timezone` is an account's override of `[hours] timezone`."""
        week = tuple(
            tuple(parse_opening(text) for text in getattr(settings, day)) for day in WEEKDAYS
        )
        return cls(
            zone=ZoneInfo(timezone or settings.timezone),
            week=week,
            closed_dates=frozenset(settings.holidays),
            public_holidays=settings.public_holidays or None,
        )

    @functools.cached_property
    def always_open(self) -> bool:
        """Open round the clock every day: business time is plain elapsed time."""
        whole_day = ((time(0), None),)
        return (all(openings == whole_day for openings in self.week)
                and not self.closed_dates and not self.public_holidays)

    def is_closed_day(self, day: date) -> bool:
        if day in self.closed_dates:
            return True
        return bool(self.public_holidays) and day in _public_holidays(
            self.public_holidays or "", day.year
        )

    def openings_on(self, day: date) -> tuple[Opening, ...]:
        """The day's openings in UTC; none on a closed date. Remembered per desk object
        and day: reports ask for the same few hundred days for every conversation of a year
        (a cache keyed on the whole desk spent most of the time hashing it)."""
        known = self._openings_by_day.get(day)
        if known is None:
            known = self._openings_by_day[day] = _openings_on(self, day)
        return known

    @functools.cached_property
    def _openings_by_day(self) -> dict[date, tuple[Opening, ...]]:
        return {}

    def openings_from(self, instant: datetime) -> Iterator[Opening]:
        """Openings that end after `instant`, the first one clipped to start at it."""
        instant = _utc(instant)
        first_day = instant.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(SEARCH_DAYS):
            for opens, closes in self.openings_on(first_day + timedelta(days=offset)):
                if closes > instant:
                    yield max(opens, instant), closes
        raise ValueError(f"no opening hours in the {SEARCH_DAYS} days after {instant.isoformat()}")

    def is_open(self, instant: datetime) -> bool:
        return self.next_opening(instant) == _utc(instant)

    def next_opening(self, instant: datetime) -> datetime:
        """`instant` itself when the desk is open then, else the start of the next opening."""
        opens, _ = next(self.openings_from(instant))
        return opens

    def business_minutes(self, start: datetime, end: datetime) -> float:
        """Open minutes between two instants; negative when `end` is before `start`."""
        start, end = _utc(start), _utc(end)
        if self.always_open:
            return (end - start) / ONE_MINUTE
        totals = self._open_time
        last_start, start_total = totals.last_start
        if start != last_start:  # a conversation's two figures share their start
            start_total = self._open_until(start)
            totals.last_start = (start, start_total)
        return (self._open_until(end) - start_total) / ONE_MINUTE

    def _open_until(self, instant: datetime) -> timedelta:
        """Open time from a fixed day up to `instant`: business minutes are the difference
        of two, read from running totals per day (reports ask twice a row, for any span)."""
        day = instant.astimezone(self.zone).date()
        total = self._open_time.before(day)
        for opens, closes in self.openings_on(day):
            if opens >= instant:
                break
            total += min(closes, instant) - opens
        return total

    @functools.cached_property
    def _open_time(self) -> _OpenTimeTotals:
        return _OpenTimeTotals(self)

    def add_business_minutes(self, instant: datetime, minutes: float) -> datetime:
        """The instant `minutes` of open time after `instant`: an SLA's due time.

        A result that falls exactly at a closing time stays there ("by 18:00") rather than
        moving to the next opening, so the due time is never inside closed hours.
        """
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        instant = _utc(instant)
        remaining = timedelta(minutes=minutes)
        if not remaining:
            return instant
        for opens, closes in self.openings_from(instant):
            if remaining <= closes - opens:
                return opens + remaining
            remaining -= closes - opens
        raise AssertionError("openings_from never ends without raising")  # pragma: no cover


WEEKDAY_NAMES = {
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
WHEN_PHRASES = {
    "it": {"today": "le {time}", "tomorrow": "domani alle {time}", "week": "{day} alle {time}",
           "later": "il {date} alle {time}"},
    "en": {"today": "{time}", "tomorrow": "tomorrow at {time}", "week": "{day} at {time}",
           "later": "{date} at {time}"},
}
"""How "by when" reads in each language socialdesk knows; others get the English phrasing."""


def answer_by(hours: BusinessHours, due: datetime, now: datetime, language: str) -> str:
    """The due time as a customer reads it, in the desk's time zone: "le 11:30",
    "domani alle 10:00", "lunedì alle 10:00", or a date when it is a week or more away."""
    local_due, today = _utc(due).astimezone(hours.zone), _utc(now).astimezone(hours.zone).date()
    days = (local_due.date() - today).days
    phrases = WHEN_PHRASES.get(language, WHEN_PHRASES["en"])
    kind = "today" if days <= 0 else "tomorrow" if days == 1 else "week" if days < 7 else "later"
    day = WEEKDAY_NAMES.get(language, WEEKDAY_NAMES["en"])[local_due.weekday()]
    return phrases[kind].format(time=f"{local_due:%H:%M}", day=day,
                                date=f"{local_due:%d/%m}" if language == "it" else
                                f"{local_due:%Y-%m-%d}")


def acknowledgement_text(
    template: AcknowledgementTemplate, hours: BusinessHours, due: datetime, now: datetime,
    language: str,
) -> str:
    """The automatic acknowledgement: the template for open or closed hours, filled in."""
    text = template.open if hours.is_open(now) else template.closed
    local_due = _utc(due).astimezone(hours.zone)
    return text.format(when=answer_by(hours, due, now, language), time=f"{local_due:%H:%M}",
                       date=f"{local_due:%Y-%m-%d}")


ALWAYS_OPEN = BusinessHours(zone=ZoneInfo(DEFAULT_TIMEZONE), week=(((time(0), None),),) * 7)
"""A desk without published hours: the SLA counts plain minutes; times read in Rome's zone
(or the account's `timezone`)."""


def hours_for(
    settings: HoursSettings | None, account: AccountConfig | None = None
) -> BusinessHours:
    """The hours that apply to `account`: `[hours]` with the account's time zone, if it has one."""
    timezone = account.timezone if account else None
    if settings is None:
        if timezone is None or timezone == DEFAULT_TIMEZONE:
            return ALWAYS_OPEN
        return replace(ALWAYS_OPEN, zone=ZoneInfo(timezone))
    return BusinessHours.from_settings(settings, timezone)


def _openings_on(hours: BusinessHours, day: date) -> tuple[Opening, ...]:
    """Computed once per desk object and day (`BusinessHours.openings_on` keeps them)."""
    if hours.is_closed_day(day):
        return ()
    openings = []
    for start, end in hours.week[day.weekday()]:
        opens = _instant(day, start, hours.zone)
        closes = (_instant(day + timedelta(days=1), time(0), hours.zone) if end is None
                  else _instant(day, end, hours.zone))
        if closes > opens:
            openings.append((opens, closes))
    return tuple(openings)


class _OpenTimeTotals:
    """Open time from the start of the first day asked about to the start of each day,
    filled in both directions as days further out are asked for."""

    def __init__(self, hours: BusinessHours) -> None:
        self._hours = hours
        self._before: dict[date, timedelta] = {}
        self._first: date | None = None
        self._last: date | None = None
        self.last_start: tuple[datetime | None, timedelta] = (None, timedelta())

    def before(self, day: date) -> timedelta:
        known = self._before.get(day)
        if known is not None:
            return known
        if self._first is None or self._last is None:
            self._first = self._last = day
            self._before[day] = timedelta()
        while day > self._last:
            self._before[self._last + ONE_DAY] = self._before[self._last] + self._open_on(
                self._last)
            self._last += ONE_DAY
        while day < self._first:
            self._first -= ONE_DAY
            self._before[self._first] = self._before[self._first + ONE_DAY] - self._open_on(
                self._first)
        return self._before[day]

    def _open_on(self, day: date) -> timedelta:
        return sum((closes - opens for opens, closes in self._hours.openings_on(day)),
                   timedelta())


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time as UTC; a time skipped by a spring-forward change maps past the gap."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _utc(instant: datetime) -> datetime:
    zone = instant.tzinfo
    if zone is UTC:  # most callers: times read from the store (reports: 2 per row)
        return instant
    if zone is None:
        raise ValueError("business-time arithmetic needs aware datetimes")
    return instant.astimezone(UTC)


@functools.cache
def _public_holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holiday_calendars.country_holidays(country, years=year))
