"""Business-time arithmetic: weekends, holidays, lunch breaks and DST in Europe/Rome.

Every instant is written out, so nothing depends on the clock the tests run at.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialdesk.config import settings_from_mapping
from socialdesk.errors import ConfigError
from socialdesk.rules_config import DEFAULT_ACKNOWLEDGEMENTS, HoursSettings
from socialdesk.service.hours import (
    ALWAYS_OPEN,
    BusinessHours,
    acknowledgement_text,
    answer_by,
    hours_for,
)

ROME = ZoneInfo("Europe/Rome")
WEEKDAY = ["09:00-13:00", "14:00-18:00"]


def rome(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ROME)  # type: ignore[misc]


def office(**overrides: object) -> BusinessHours:
    values: dict[str, object] = {day: WEEKDAY for day in ("mon", "tue", "wed", "thu", "fri")}
    values.update(overrides)
    return BusinessHours.from_settings(HoursSettings.model_validate(values))


def test_friday_evening_message_is_due_on_monday_morning() -> None:
    due = office().add_business_minutes(rome(2026, 11, 27, 17, 0), 120)
    assert due == rome(2026, 11, 30, 10, 0)


def test_lunch_break_does_not_count() -> None:
    hours = office()
    assert hours.add_business_minutes(rome(2026, 11, 30, 12, 30), 60) == rome(2026, 11, 30, 14, 30)
    assert hours.business_minutes(rome(2026, 11, 30, 12, 0), rome(2026, 11, 30, 15, 0)) == 120


def test_weekend_counts_no_business_time() -> None:
    assert office().business_minutes(rome(2026, 11, 28, 8, 0), rome(2026, 11, 29, 23, 0)) == 0


def test_a_due_time_landing_on_closing_time_stays_there() -> None:
    assert office().add_business_minutes(rome(2026, 11, 30, 17, 0), 60) == rome(2026, 11, 30, 18, 0)


def test_zero_minutes_is_the_instant_itself_even_when_closed() -> None:
    saturday = rome(2026, 11, 28, 22, 0)
    assert office().add_business_minutes(saturday, 0) == saturday


def test_next_opening_after_a_weekend_is_monday_nine() -> None:
    hours = office()
    assert hours.next_opening(rome(2026, 11, 28, 11, 0)) == rome(2026, 11, 30, 9, 0)
    assert hours.next_opening(rome(2026, 11, 30, 10, 0)) == rome(2026, 11, 30, 10, 0)
    assert hours.next_opening(rome(2026, 11, 30, 13, 30)) == rome(2026, 11, 30, 14, 0)


def test_italian_public_holidays_close_the_desk() -> None:
    hours = office()
    # Easter Monday 2026 is 6 April; Liberation Day 25 April falls on a Saturday.
    assert hours.next_opening(rome(2026, 4, 3, 19, 0)) == rome(2026, 4, 7, 9, 0)
    assert hours.is_closed_day(date(2026, 6, 2))  # Festa della Repubblica, a Tuesday


def test_public_holidays_can_be_switched_off() -> None:
    hours = office(public_holidays="")
    assert hours.next_opening(rome(2026, 4, 3, 19, 0)) == rome(2026, 4, 6, 9, 0)


def test_configured_closed_dates_add_to_public_holidays() -> None:
    hours = office(holidays=["2026-12-24"])
    # Wed 23 Dec 17:30: 30 minutes that day; 24 (ours), 25, 26 (public) and the weekend closed.
    due = hours.add_business_minutes(rome(2026, 12, 23, 17, 30), 60)
    assert due == rome(2026, 12, 28, 9, 30)


def test_a_wait_spanning_the_march_dst_change_keeps_its_business_length() -> None:
    hours = office()
    friday = rome(2026, 3, 27, 17, 0)  # CET, +01:00
    due = hours.add_business_minutes(friday, 120)
    assert due == rome(2026, 3, 30, 10, 0)  # CEST, +02:00
    assert due.utcoffset() != friday.utcoffset()
    assert hours.business_minutes(friday, due) == 120


def test_an_opening_across_the_spring_forward_hour_lasts_one_hour_less() -> None:
    hours = office(sun=["01:00-05:00"], public_holidays="")
    assert hours.business_minutes(rome(2026, 3, 29, 0, 0), rome(2026, 3, 29, 6, 0)) == 180
    assert hours.business_minutes(rome(2026, 3, 22, 0, 0), rome(2026, 3, 22, 6, 0)) == 240


def test_an_opening_across_the_fall_back_hour_lasts_one_hour_more() -> None:
    hours = office(sun=["01:00-05:00"], public_holidays="")
    assert hours.business_minutes(rome(2026, 10, 25, 0, 0), rome(2026, 10, 25, 6, 0)) == 300
    due = hours.add_business_minutes(rome(2026, 10, 25, 1, 0), 150)
    assert due == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 the second time (CET)


def test_an_opening_may_run_to_midnight() -> None:
    hours = office(sat=["20:00-24:00"])
    due = hours.add_business_minutes(rome(2026, 11, 28, 23, 0), 90)
    assert due == rome(2026, 11, 30, 9, 30)


def test_an_account_time_zone_overrides_the_desk_one() -> None:
    settings = HoursSettings(timezone="Europe/Rome", mon=["09:00-10:00"])
    london = BusinessHours.from_settings(settings, "Europe/London")
    assert london.next_opening(rome(2026, 11, 30, 9, 30)) == rome(2026, 11, 30, 10, 0)


def test_no_hours_section_means_always_open() -> None:
    assert hours_for(None) is ALWAYS_OPEN
    start = rome(2026, 11, 28, 23, 0)
    assert ALWAYS_OPEN.add_business_minutes(start, 90) == start + timedelta(minutes=90)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        office().next_opening(datetime(2026, 11, 30, 9, 0))  # noqa: DTZ001


@pytest.mark.parametrize(("hours", "message"), [
    ({"mon": ["18:00-09:00"]}, "close after it opens"),
    ({"mon": ["9-13"]}, "not an opening"),
    ({"mon": ["09:00-13:00", "12:00-14:00"]}, "must not overlap"),
    ({"timezone": "Europe/Roma"}, "unknown time zone"),
    ({"mon": [], "tue": [], "wed": [], "thu": [], "fri": []}, "at least one weekday"),
    ({"public_holidays": "Italy"}, "two-letter country code"),
])
def test_bad_hours_are_refused_with_the_key_and_reason(
    hours: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        settings_from_mapping({"hours": hours}, source="desk.toml")
    assert str(caught.value).startswith("desk.toml: hours")


# --- invariants ---------------------------------------------------------------------------

SCHEDULES = [
    office(),
    office(holidays=["2026-12-24", "2027-08-16"], sat=["09:00-12:00"]),
    office(sun=["01:00-05:00"], public_holidays=""),
    ALWAYS_OPEN,
]
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=150, deadline=None)
@given(schedule=st.sampled_from(SCHEDULES), start=instants,
       minutes=st.integers(min_value=1, max_value=6000))
def test_a_due_time_is_never_in_closed_hours(
    schedule: BusinessHours, start: datetime, minutes: int
) -> None:
    due = schedule.add_business_minutes(start, minutes)
    assert due > start
    assert schedule.is_open(due - timedelta(microseconds=1))


@settings(max_examples=150, deadline=None)
@given(schedule=st.sampled_from(SCHEDULES), start=instants,
       minutes=st.integers(min_value=0, max_value=6000))
def test_business_minutes_up_to_the_due_time_are_the_sla(
    schedule: BusinessHours, start: datetime, minutes: int
) -> None:
    due = schedule.add_business_minutes(start, minutes)
    assert schedule.business_minutes(start, due) == minutes


@settings(max_examples=150, deadline=None)
@given(schedule=st.sampled_from(SCHEDULES), start=instants,
       minutes=st.integers(min_value=-700 * 1440, max_value=700 * 1440))
def test_business_minutes_are_the_openings_between_two_instants(
    schedule: BusinessHours, start: datetime, minutes: int
) -> None:
    """Either way round, from the same instant to nearly two years apart."""
    end = start + timedelta(minutes=minutes)
    first, last = min(start, end), max(start, end)
    opened = timedelta()
    for opens, closes in schedule.openings_from(first):
        if opens >= last:
            break
        opened += min(closes, last) - opens
    expected = opened / timedelta(minutes=1)
    assert schedule.business_minutes(start, end) == (expected if end >= start else -expected)


@settings(max_examples=100, deadline=None)
@given(schedule=st.sampled_from(SCHEDULES), moments=st.lists(instants, min_size=3, max_size=3))
def test_business_minutes_add_up_over_any_span(
    schedule: BusinessHours, moments: list[datetime]
) -> None:
    """Up to four years: a conversation resolved years later still gets its figure."""
    first, middle, last = sorted(moments)
    whole = schedule.business_minutes(first, last)
    parts = schedule.business_minutes(first, middle) + schedule.business_minutes(middle, last)
    assert abs(whole - parts) < 1e-6


@settings(max_examples=100, deadline=None)
@given(schedule=st.sampled_from(SCHEDULES), start=instants)
def test_the_next_opening_is_open_and_nothing_before_it_is(
    schedule: BusinessHours, start: datetime
) -> None:
    opening = schedule.next_opening(start)
    assert opening >= start and schedule.is_open(opening)
    assert schedule.business_minutes(start, opening) == 0


# --- the acknowledgement's "by when" ------------------------------------------------------

def test_the_answer_time_reads_naturally_in_italian_and_english() -> None:
    hours, now = office(), rome(2026, 11, 30, 10, 0)  # a Monday
    assert answer_by(hours, rome(2026, 11, 30, 11, 30), now, "it") == "le 11:30"
    assert answer_by(hours, rome(2026, 12, 1, 10, 0), now, "it") == "domani alle 10:00"
    assert answer_by(hours, rome(2026, 12, 3, 9, 30), now, "it") == "giovedì alle 09:30"
    assert answer_by(hours, rome(2026, 12, 3, 9, 30), now, "en") == "Thursday at 09:30"
    assert answer_by(hours, rome(2026, 12, 9, 9, 0), now, "it") == "il 09/12 alle 09:00"


def test_outside_hours_the_acknowledgement_says_so_and_names_the_next_working_day() -> None:
    template = DEFAULT_ACKNOWLEDGEMENTS["it"]
    hours = office()
    friday_evening = rome(2026, 11, 27, 19, 0)
    due = hours.add_business_minutes(friday_evening, 60)
    text = acknowledgement_text(template, hours, due, friday_evening, "it")
    assert text == ("Grazie del messaggio! Ora siamo fuori orario: ti risponderemo entro "
                    "lunedì alle 10:00.")
    monday = rome(2026, 11, 30, 10, 30)
    open_text = acknowledgement_text(DEFAULT_ACKNOWLEDGEMENTS["en"], hours,
                                     hours.add_business_minutes(monday, 60), monday, "en")
    assert open_text == "Thanks for your message! We will answer by 11:30."


def test_times_are_told_in_the_desks_time_zone_even_without_hours() -> None:
    due = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)
    assert answer_by(hours_for(None), due, due, "it") == "le 11:30"
