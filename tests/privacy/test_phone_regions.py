"""Hypothesis: the detector's own reading of a national number, which skips
`phonenumbers.parse` (~100 µs per call) for regions whose trunk prefix is a plain string,
gives the national number `parse` gives."""

from __future__ import annotations

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialdesk.privacy.phones import _Region

REGIONS = {code: _Region.for_region(code) for code in ("IT", "US", "GB", "FR", "DE", "ES")}
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

national_digits = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["0", "07", "01", "02", "03", "3", "1", "180020", "2", "4", "6", "9"]),
    st.text("0123456789", min_size=6, max_size=11),
)


@SETTINGS
@given(st.sampled_from(sorted(REGIONS)), national_digits)
def test_national_numbers_read_without_parse_match_phonenumbers(code: str, digits: str) -> None:
    region = REGIONS[code]
    if region.needs_parse(digits):
        return  # the detector asks phonenumbers itself
    for nsn in region.national_numbers(digits):
        if not region.is_valid(nsn):
            continue
        parsed = phonenumbers.parse(digits, code)
        if phonenumbers.is_valid_number_for_region(parsed, code):
            assert phonenumbers.national_significant_number(parsed) in region.national_numbers(
                digits), (code, digits, nsn)


def test_a_text_relay_prefix_goes_through_parse() -> None:
    assert REGIONS["GB"].needs_parse("18002012345678")
    assert not REGIONS["GB"].needs_parse("07911123456")
