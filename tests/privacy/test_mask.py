"""Masking: structure hints, the country type hint, at most the last two characters."""

from __future__ import annotations

import pytest

from socialdesk.privacy.detect import Detector, Entity
from socialdesk.privacy.mask import mask_text, mask_value, visible_prefix


@pytest.mark.parametrize("entity_type, value, masked", [
    ("PHONE", "+39 347 123 4567", "+39 *** *** **67"),
    ("PHONE", "3471234567", "********67"),
    ("IBAN", "IT60 X054 2811 1010 0000 0123 456", "IT** **** **** **** **** **** *56"),
    ("CARD", "4012-8888-8888-1881", "****-****-****-**81"),
    ("EMAIL", "mario.rossi@example.it", "***@***.it"),
    ("EMAIL", "mario@example.com", "***@***.*om"),
    ("IT_VAT", "IT 00743110157", "IT *********57"),
    ("REFERENCE", "88412", "*****"),          # too short to show a tail
    ("ADDRESS", "via Roma 12, 20121 Milano", "***"),
])
def test_mask_value(entity_type: str, value: str, masked: str) -> None:
    assert mask_value(entity_type, value) == masked


def test_mask_text_replaces_each_span() -> None:
    text = "chiamatemi al 347 123 4567 o scrivete a mario@example.it"
    entities = Detector().scan(text)
    assert mask_text(text, entities) == "chiamatemi al *** *** **67 o scrivete a ***@***.it"


def test_mask_text_merges_overlaps() -> None:
    text = "abc 1234567890 def"
    entities = [Entity("REFERENCE", 4, 10, "123456"), Entity("PHONE", 8, 14, "567890")]
    masked = mask_text(text, entities)
    assert "1234" not in masked and "5678" not in masked
    assert masked.startswith("abc ") and masked.endswith(" def")


def test_visible_prefix_is_only_a_country_hint() -> None:
    assert visible_prefix("PHONE", "+44 7911 123456") == "+44"
    assert visible_prefix("PHONE", "07911 123456") == ""
    assert visible_prefix("IBAN", "DE89 3704 0044 0532 0130 00") == "DE"
    assert visible_prefix("CARD", "4012888888881881") == ""
