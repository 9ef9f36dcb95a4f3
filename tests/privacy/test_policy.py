"""The privacy guard's decisions: which actions, in which order, in which words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import ActionKind
from socialdesk.config import Settings
from socialdesk.platforms.contract import PublicPost, Purpose
from socialdesk.privacy.detect import Detector
from socialdesk.privacy.policy import RedirectPlan, plan_redirect
from socialdesk.privacy.templates import render, repeats_personal_data
from tests.privacy.test_properties import FRAGMENTS

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
DETECTOR = Detector()
X_ACCOUNT = {"name": "brand-x", "platform": "x", "user_id": "99", "bearer_token_env": "A",
             "consumer_key_env": "B", "consumer_secret_env": "C", "access_token_env": "D",
             "access_token_secret_env": "E"}
FB_ACCOUNT = {"name": "brand-fb", "platform": "facebook", "page_id": "1", "page_token_env": "T"}


def settings_with(mode: str = "auto", **account_overrides: str) -> Settings:
    return Settings.model_validate({
        "privacy": {"mode": mode},
        "accounts": [{**X_ACCOUNT, **account_overrides}, {**FB_ACCOUNT, **account_overrides}],
    })


def post(text: str, platform: str = "facebook", **fields: object) -> PublicPost:
    values: dict[str, object] = {
        "platform": platform, "channel": "comment" if platform == "facebook" else "mention",
        "visibility": "public", "external_id": "123_456", "text": text,
        "created_at": NOW - timedelta(minutes=5), "author_id": "u1",
        "author_handle": "giulia_v", "author_name": "Giulia Verdi",
    }
    values.update(fields)
    return PublicPost(**values)  # type: ignore[arg-type]


def plan(text: str, platform: str = "facebook", mode: str = "auto",
         **fields: object) -> RedirectPlan | None:
    config = settings_with(mode)
    account = config.account("brand-fb" if platform == "facebook" else "brand-x")
    public = post(text, platform, **fields)
    return plan_redirect(public, DETECTOR.scan(text), account, config.privacy, NOW)


def test_facebook_comment_is_hidden_then_answered_privately_then_in_public() -> None:
    found = plan("Non riesco ad accedere, chiamatemi al 347 123 4567 per favore")

    assert found is not None
    assert [a.kind for a in found.actions] == [
        ActionKind.HIDE, ActionKind.PRIVATE_REPLY, ActionKind.REPLY]
    assert found.language == "it" and found.types == ("PHONE",)
    pointer = found.actions[-1].text or ""
    assert pointer.startswith("Giulia, ti abbiamo scritto in privato")
    assert "4567" not in pointer
    assert "numero di telefono" in (found.actions[1].text or "")


def test_comment_older_than_seven_days_gets_no_private_reply() -> None:
    found = plan("my number is 347 123 4567", created_at=NOW - timedelta(days=8))

    assert found is not None
    assert [a.purpose for a in found.actions] == [Purpose.HIDE, Purpose.PUBLIC_POINTER]
    assert "7 days" in found.notes[0]


def test_x_mention_gets_a_dm_and_a_pointer_without_link_and_a_fallback_with_it() -> None:
    found = plan("@brand my IBAN is IT60X0542811101000000123456 please refund me", "x")

    assert found is not None
    assert [a.kind for a in found.actions] == [ActionKind.DIRECT_MESSAGE, ActionKind.REPLY]
    assert found.actions[0].recipient_id == "u1"
    assert "http" not in (found.actions[1].text or "")
    assert (found.actions[1].text or "").startswith("@giulia_v, we've sent you a private message")
    assert found.pointer_if_dm_refused is not None
    link = "https://x.com/messages/compose?recipient_id=99"
    assert link in (found.pointer_if_dm_refused.text or "")


@pytest.mark.parametrize("mode", ["off"])
def test_mode_off_plans_nothing(mode: str) -> None:
    assert plan("chiamatemi al 347 123 4567", mode=mode) is None


def test_account_override_wins_over_the_global_mode() -> None:
    config = settings_with("off", privacy_mode="suggest")
    text = "chiamatemi al 347 123 4567"
    found = plan_redirect(post(text), DETECTOR.scan(text), config.account("brand-fb"),
                          config.privacy, NOW)
    assert found is not None and found.mode == "suggest"


def test_private_messages_and_clean_posts_are_left_alone() -> None:
    assert plan("chiamatemi al 347 123 4567", channel="messenger", visibility="private") is None
    assert plan("il volo AZ 1234 delle 10:30 è in ritardo di 2 ore") is None


def test_too_short_to_tell_uses_the_account_language() -> None:
    config = settings_with("auto", language="en")
    text = "@brand 3471234567"
    found = plan_redirect(post(text, "x"), DETECTOR.scan(text), config.account("brand-x"),
                          config.privacy, NOW)
    assert found is not None and found.language == "en"


def test_a_display_name_that_carries_the_data_is_left_out_of_the_public_reply() -> None:
    found = plan("richiamatemi al 347 123 4567", author_name="3471234567 Giulia")

    assert found is not None
    pointer = found.actions[-1].text or ""
    assert pointer.startswith("Ti abbiamo scritto in privato")
    assert "3471234567" not in pointer


def test_render_drops_the_comma_of_an_empty_name() -> None:
    assert render("{name}, we've sent you a message.", name="") == "We've sent you a message."


names = st.one_of(st.none(), st.text(max_size=20),
                  st.lists(st.sampled_from(FRAGMENTS), max_size=3).map(" ".join))
posts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)),
                 min_size=1, max_size=12).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(posts, names, names, st.sampled_from(["x", "facebook"]))
def test_public_reply_never_repeats_the_data(
    text: str, name: str | None, handle: str | None, platform: str
) -> None:
    entities = DETECTOR.scan(text)
    found = plan(text, platform, author_name=name, author_handle=handle)
    if not entities:
        assert found is None
        return
    assert found is not None
    public = [a.text or "" for a in found.actions if a.purpose is Purpose.PUBLIC_POINTER]
    if found.pointer_if_dm_refused is not None:
        public.append(found.pointer_if_dm_refused.text or "")
    for reply in public:
        assert not repeats_personal_data(reply, entities), (reply, entities)
        squashed = "".join(ch for ch in reply.casefold() if ch.isalnum())
        for entity in entities:
            value = "".join(ch for ch in entity.value.casefold() if ch.isalnum())
            assert len(value) < 4 or value not in squashed, (reply, entity)


def test_example_config_documents_the_default_templates() -> None:
    from pathlib import Path

    from socialdesk.config import load_settings
    from socialdesk.rules_config import DEFAULT_PRIVACY_TEMPLATES

    example = Path(__file__).resolve().parents[2] / "socialdesk" / "config.example.toml"
    assert load_settings(example).privacy.templates == DEFAULT_PRIVACY_TEMPLATES


@pytest.mark.parametrize("text", ["chiamatemi al 347 123 4567 per il rimborso",
                                  "please call me back on 347 123 4567 about my refund"])
def test_each_earlier_redirect_of_a_customer_gives_the_pointer_another_wording(
    text: str,
) -> None:
    """X refuses a post that repeats an earlier one: the pointer must change per customer
    (issue 15 point 2). Twenty redirects of one person, twenty wordings, none with the
    data or a URL; the fallback with the DM link changes too."""
    config = settings_with("auto")
    account = config.account("brand-x")
    plans = [plan_redirect(post(text, "x"), DETECTOR.scan(text), account, config.privacy,
                           NOW, earlier_redirects=number) for number in range(20)]
    pointers = [p.actions[-1].text or "" for p in plans if p is not None]
    linked = [p.pointer_if_dm_refused.text or "" for p in plans
              if p is not None and p.pointer_if_dm_refused is not None]
    assert len(set(pointers)) == 20 and len(set(linked[:12])) == 12
    assert all(a != b for a, b in zip(linked, linked[1:], strict=False))
    for pointer in pointers:
        assert pointer.startswith("@giulia_v, ")
        assert "http" not in pointer and "4567" not in pointer.replace(" ", "")


def test_a_pointer_in_config_may_be_one_text_or_several() -> None:
    one = Settings.model_validate({"privacy": {"templates": {"en": {
        "private_message": "Hi {name}", "public_pointer": "{name}, see DM",
        "public_pointer_link": "{name}: {dm_link}"}}}})
    several = Settings.model_validate({"privacy": {"templates": {"en": {
        "private_message": "Hi {name}", "public_pointer": ["{name}, see DM", "{name}, DM sent"],
        "public_pointer_link": ["{name}: {dm_link}"]}}}})
    assert one.privacy.templates["en"].public_pointer == ("{name}, see DM",)
    assert several.privacy.templates["en"].public_pointer == ("{name}, see DM",
                                                             "{name}, DM sent")
    with pytest.raises(ValueError, match="unknown placeholder"):
        Settings.model_validate({"privacy": {"templates": {"en": {
            "private_message": "Hi", "public_pointer": ["ok", "{phone}"],
            "public_pointer_link": "x"}}}})
