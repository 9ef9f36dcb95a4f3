"""The desk's one-line preview masks with the offsets stored for the whole message."""

from __future__ import annotations

from socialdesk.privacy.mask import PREVIEW_SCAN_CHARS, stored_preview

PHONE = "+39 347 999 8877"


def spans_of(text: str, value: str, kind: str = "PHONE") -> list[list[object]]:
    start = text.index(value)
    return [[start, start + len(value), kind]]


def test_a_value_at_the_start_is_masked_as_in_the_reports() -> None:
    text = f"call {PHONE}\nsoon"
    assert stored_preview(text, spans_of(text, PHONE)) == "call +39 *** *** **77 soon"


def test_a_value_the_cut_would_split_is_masked_whole_first() -> None:
    text = "x" * (PREVIEW_SCAN_CHARS - 8) + f" {PHONE} and more"
    preview = stored_preview(text, spans_of(text, PHONE))
    assert len(preview) == PREVIEW_SCAN_CHARS
    assert preview.endswith(" +39 ***")
    assert "347" not in preview and "99" not in preview


def test_spans_past_the_preview_are_not_needed_and_text_past_it_is_not_shown() -> None:
    text = "hello " + "y" * PREVIEW_SCAN_CHARS + f" {PHONE}"
    preview = stored_preview(text, spans_of(text, PHONE))
    assert preview == ("hello " + "y" * PREVIEW_SCAN_CHARS)[:PREVIEW_SCAN_CHARS]


def test_without_spans_the_text_is_shown_on_one_line_with_controls_visible() -> None:
    assert stored_preview("a\n b\x1b[31m", None) == "a b\u241b[31m"
