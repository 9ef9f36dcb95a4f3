"""Hypothesis: the detector's IBAN check answers exactly as `stdnum.iban.is_valid`."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import iban

from socialdesk.privacy.bank_numbers import iban_is_valid

SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COUNTRIES = ["IT", "DE", "GB", "FR", "ES", "BE", "NO", "ME", "NL", "SM", "VA", "CH", "XX", "US"]


def with_check_digits(country: str, bban: str) -> str:
    return f"{country}{iban.calc_check_digits(f'{country}00{bban}')}{bban}"


bbans = st.text(string.digits + string.ascii_uppercase, min_size=8, max_size=30)


@SETTINGS
@given(st.sampled_from(COUNTRIES), bbans, st.booleans(), st.sampled_from(["", " ", "-", "."]))
def test_same_answer_as_stdnum(country: str, bban: str, fix_check: bool, separator: str) -> None:
    value = with_check_digits(country, bban) if fix_check else f"{country}42{bban}"
    spaced = separator.join(value[i:i + 4] for i in range(0, len(value), 4))
    for candidate in (value, spaced, value.lower()):
        assert iban_is_valid(candidate) == iban.is_valid(candidate), candidate


@SETTINGS
@given(st.sampled_from(COUNTRIES), st.text(string.digits, min_size=10, max_size=30))
def test_same_answer_on_numeric_layouts(country: str, digits: str) -> None:
    value = with_check_digits(country, digits)
    assert iban_is_valid(value) == iban.is_valid(value)


def test_known_numbers() -> None:
    assert iban_is_valid("IT60X0542811101000000123456")
    assert iban_is_valid("GB82 WEST 1234 5698 7654 32")
    assert not iban_is_valid("IT61X0542811101000000123456")
