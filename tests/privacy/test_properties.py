"""Hypothesis: the detector never crashes, its spans are sound, masking never leaks."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialdesk.privacy.detect import Detector
from socialdesk.privacy.mask import mask_stored_spans, mask_text, mask_value, visible_prefix

DETECTOR = Detector()
PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Fragments that exercise every candidate path, glued with random text.
FRAGMENTS = [
    "+39 347 123 4567", "3471234567", "(415) 555-0132", "07911 123456", "800 123 456",
    "IT60X0542811101000000123456", "IT60 X054 2811 1010 0000 0123 456", "4012 8888 8888 1881",
    "RSSMRA45C12F205C", "P.IVA 00743110157", "IT 00743110157", "CRO 12345678900",
    "TRN 0306909606340322495308003010IT", "via Roma 12, 20121 Milano", "221 Baker Street",
    "ordine n. 4471203", "booking ref QX7P2L", "mario.rossi@example.it", "@brand", "#tag2024",
    "12/03/2025", "10:30", "€ 1.299,00", "v2.14.3", "AZ 1234", "https://x.com/a/status/18463728",
    " ", ", ", "-", ".", "/", "(", ")", "+", "#", "@", "0", "00", "n°", "IT", "İ", "🙂", "\n",
]
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=25).map("".join),
)


@PROPERTY_SETTINGS
@given(texts)
def test_scan_never_crashes_and_spans_are_sound(text: str) -> None:
    entities = DETECTOR.scan(text)
    previous_end = 0
    for entity in entities:
        assert 0 <= entity.start < entity.end <= len(text)
        assert text[entity.start:entity.end] == entity.value
        assert entity.start >= previous_end, "entities overlap or are unsorted"
        previous_end = entity.end


def assert_no_leak(entity_type: str, value: str) -> None:
    """Only the country hint and at most the last two letters/digits remain visible."""
    masked = mask_value(entity_type, value)
    prefix = visible_prefix(entity_type, value)
    assert re.fullmatch(r"(\+\d{0,3}|[A-Za-z]{2})?", prefix), prefix
    value_alnum = [ch for ch in value if ch.isalnum()]
    prefix_alnum = [ch for ch in prefix if ch.isalnum()]
    shown = [ch for ch in masked if ch.isalnum()]
    assert shown[:len(prefix_alnum)] == prefix_alnum
    tail = shown[len(prefix_alnum):]
    assert len(tail) <= 2 and tail == value_alnum[len(value_alnum) - len(tail):], (value, masked)
    # the brief's wording: no run of 3+ characters of the value shows, other than the
    # country hint and the last two (a run of separators only is no information)
    core = value[len(prefix):] if prefix and value.startswith(prefix) else value
    alnum_at = [i for i, ch in enumerate(core) if ch.isalnum()]
    allowed = set(alnum_at[-len(tail):]) if tail else set()
    shown_at = [i for i, ch in enumerate(masked) if ch.isalnum()]
    head_end = shown_at[len(shown_at) - len(tail)] if tail else len(masked)
    head = masked[len(prefix):head_end]  # what stands for the hidden part of the value
    for i in range(len(core) - 2):
        secret = [j for j in range(i, i + 3) if j in alnum_at and j not in allowed]
        if secret:
            assert core[i:i + 3] not in head, (value, masked, core[i:i + 3])


@PROPERTY_SETTINGS
@given(texts)
def test_masking_never_leaks_more_than_the_last_two_characters(text: str) -> None:
    for entity in DETECTOR.scan(text):
        assert_no_leak(entity.type, entity.value)


@PROPERTY_SETTINGS
@given(
    st.sampled_from(["PHONE", "EMAIL", "IBAN", "CARD", "IT_FISCAL_CODE", "IT_VAT", "CRO", "TRN",
                     "ADDRESS", "REFERENCE", "CUSTOM:x"]),
    st.text(min_size=1, max_size=60),
)
def test_masking_any_value_never_leaks(entity_type: str, value: str) -> None:
    assert_no_leak(entity_type, value)


@PROPERTY_SETTINGS
@given(texts, st.lists(st.tuples(st.integers(-3, 320), st.integers(-3, 320),
                                 st.sampled_from(["PHONE", "IBAN", "EMAIL", "IT_VAT", "ADDRESS"])),
                       max_size=3))
def test_stored_spans_mask_as_found_spans_do(
    text: str, spans: list[tuple[int, int, str]]
) -> None:
    """The reports' fast path for offsets stored at ingest (one span, no merge) masks exactly
    as the general path does, spans out of range or overlapping included."""

    class Found:
        def __init__(self, start: int, end: int, kind: str) -> None:
            self.start, self.end, self.type = start, end, kind

    stored = [[start, end, kind] for start, end, kind in spans]
    assert mask_stored_spans(text, stored) == mask_text(text, [Found(*span) for span in spans])
