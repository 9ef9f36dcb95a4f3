"""`poll_seconds` is the slowest interval, `fast_poll_seconds` the one while customers write
(issue 16 point 3): defaults, and a fast interval above the slowest refused."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from socialdesk.config import settings_from_mapping
from socialdesk.errors import ConfigError
from socialdesk.sandbox import sandbox_config_text


def x_account(**keys: Any) -> Any:
    config = tomllib.loads(sandbox_config_text("http://127.0.0.1:9", "sqlite://"))
    config["accounts"][0].update(keys)
    return settings_from_mapping(config, source="test").accounts[0]


def test_defaults_poll_fast_while_customers_write_and_at_most_a_minute_or_two_apart() -> None:
    account = x_account()
    assert account.poll_seconds == {"mentions": 60, "dms": 120}
    assert account.fast_poll_seconds == {"mentions": 20, "dms": 60}
    assert account.adaptive_polling is True


def test_a_slowest_interval_below_the_fast_default_lowers_it() -> None:
    account = x_account(poll_seconds={"mentions": 10})
    assert account.fast_poll_seconds["mentions"] == 10
    assert account.fast_poll_seconds["dms"] == 60


def test_a_fast_interval_above_the_slowest_is_refused_with_both_keys() -> None:
    with pytest.raises(ConfigError, match=r"fast_poll_seconds: dms \(300\) is above "
                                          r"poll_seconds\.dms \(120\)"):
        x_account(fast_poll_seconds={"dms": 300})


@pytest.mark.parametrize("value", [{"feed": 30}, {"mentions": 1}])
def test_fast_intervals_name_known_streams_within_range(value: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        x_account(fast_poll_seconds=value)
