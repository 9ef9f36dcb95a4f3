"""Channel rules checked before anything is queued: lengths as each platform counts them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.base import ActionKind
from socialdesk.platforms.channel_rules import ChannelRuleError
from socialdesk.platforms.facebook_platform import messenger_type
from socialdesk.platforms.registry import check_text
from socialdesk.platforms.x_platform import x_weighted_length


def test_x_counts_any_url_as_23_and_emoji_as_2() -> None:
    assert x_weighted_length("ciao") == 4
    assert x_weighted_length("vedi https://example.com/a/very/long/path/indeed") == 5 + 23
    assert x_weighted_length("ok 👍") == 3 + 2
    assert x_weighted_length("注文") == 4


def test_x_counts_joined_emoji_and_bare_domains_as_x_does() -> None:
    """twitter-text's rules (issue 17 point 2): an emoji with a skin tone or a family
    sequence is one emoji (2), a bare domain is a URL (23)."""
    assert x_weighted_length("ok 👍🏽") == 3 + 2
    assert x_weighted_length("👨‍👩‍👧") == 2
    assert x_weighted_length("vedi shop.example.com") == 5 + 23


def test_an_x_reply_over_280_is_refused_with_the_count() -> None:
    check_text("x", ActionKind.REPLY, "a" * 280)
    with pytest.raises(ChannelRuleError, match="281 characters .*allows 280: shorten it by 1"):
        check_text("x", ActionKind.REPLY, "a" * 281)
    with pytest.raises(ChannelRuleError, match="allows 280"):
        check_text("x", ActionKind.REPLY, "a" * 260 + " https://example.com")


@pytest.mark.parametrize(("platform", "kind", "limit"), [
    ("facebook", ActionKind.DIRECT_MESSAGE, 2000),
    ("facebook", ActionKind.PRIVATE_REPLY, 2000),
    ("facebook", ActionKind.REPLY, 8000),
    ("x", ActionKind.DIRECT_MESSAGE, 10000),
])
def test_each_channel_refuses_one_character_over_its_limit(
    platform: str, kind: ActionKind, limit: int
) -> None:
    check_text(platform, kind, "a" * limit)
    with pytest.raises(ChannelRuleError, match=f"{limit + 1} characters"):
        check_text(platform, kind, "a" * (limit + 1))


def test_an_empty_answer_is_refused() -> None:
    with pytest.raises(ChannelRuleError, match="empty"):
        check_text("x", ActionKind.DIRECT_MESSAGE, "  \n")


def test_messenger_answers_by_window_and_author() -> None:
    assert messenger_type(timedelta(hours=23), human=False) == {"messaging_type": "RESPONSE"}
    assert messenger_type(timedelta(days=3), human=True) == {
        "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    with pytest.raises(ChannelRuleError, match="Human Agent"):
        messenger_type(timedelta(days=3), human=False)
    with pytest.raises(ChannelRuleError, match="after 7 days"):
        messenger_type(timedelta(days=8), human=True)
