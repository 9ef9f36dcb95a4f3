"""The simulated world: determinism by seed, exact counts, static and live modes."""

from __future__ import annotations

import collections
import time
from datetime import UTC, datetime

import requests
from sandbox_helpers import mentions
from stdnum import iban
from stdnum.it import codicefiscale

from socialdesk.sandbox import FACEBOOK_PAGE_ID, X_USER_ID, SandboxServer, texts

FIXED = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _inbound(state: dict) -> list[dict]:
    return [
        i
        for i in state["items"]
        if i["direction"] == "inbound" and i.get("event_type") != "ParticipantsJoin"
    ]


def test_same_seed_gives_identical_data() -> None:
    one = SandboxServer(seed=7, static=True, clock=lambda: FIXED).state()
    two = SandboxServer(seed=7, static=True, clock=lambda: FIXED).state()
    assert one == two


def test_different_seeds_give_different_data() -> None:
    one = SandboxServer(seed=1, static=True, clock=lambda: FIXED).state()
    two = SandboxServer(seed=2, static=True, clock=lambda: FIXED).state()
    assert [i["text"] for i in one["items"]] != [i["text"] for i in two["items"]]


def test_live_sequence_is_deterministic_by_seed() -> None:
    one = SandboxServer(seed=4, static=True, clock=lambda: FIXED).generate(5)
    two = SandboxServer(seed=4, static=True, clock=lambda: FIXED).generate(5)
    assert one == two and len(one) == 5


def test_static_set_has_exactly_the_requested_inbound_items() -> None:
    for count in (0, 1, 17, 60):
        assert (
            len(_inbound(SandboxServer(seed=count, static=True, messages=count).state())) == count
        )


def test_items_cover_every_channel_with_echoes_and_joins() -> None:
    state = SandboxServer(seed=0, static=True, messages=120).state()
    channels = collections.Counter(i["channel"] for i in _inbound(state))
    assert set(channels) == {"mention", "dm", "comment", "visitor_post", "messenger"}
    outbound = [i for i in state["items"] if i["direction"] == "outbound"]
    assert {i["channel"] for i in outbound} >= {"dm", "comment", "messenger", "post"}
    assert any(i.get("event_type") == "ParticipantsJoin" for i in state["items"])
    assert {i["author_id"] for i in outbound} == {X_USER_ID, FACEBOOK_PAGE_ID}


def test_every_item_is_in_the_past_and_ids_grow_with_time() -> None:
    state = SandboxServer(seed=0, static=True).state()
    now = datetime.now(UTC)
    assert all(datetime.fromisoformat(i["created_at"]) < now for i in state["items"])
    x_items = sorted(
        (i for i in state["items"] if i["platform"] == "x"), key=lambda i: int(i["id"])
    )
    times = [i["created_at"] for i in x_items]
    assert times == sorted(times)


def test_about_one_in_five_public_posts_carries_valid_personal_data() -> None:
    state = SandboxServer(seed=0, static=True, messages=400).state()
    public = [i for i in _inbound(state) if i["channel"] in ("mention", "comment", "visitor_post")]
    with_pii = [i for i in public if i["pii"]]
    assert 0.12 < len(with_pii) / len(public) < 0.3
    kinds = {kind for i in with_pii for kind in i["pii"]}
    assert kinds == {"PHONE", "EMAIL", "IBAN", "IT_FISCAL_CODE", "REFERENCE"}
    assert all(codicefiscale.is_valid(code) for code in texts.FISCAL_CODES)
    assert iban.is_valid("IT60X0542811101000000123456")
    languages = collections.Counter(
        i.get("lang") for i in state["items"] if i["channel"] == "mention"
    )
    assert languages["it"] > 0 and languages["en"] > 0


def test_static_mode_adds_nothing_over_time() -> None:
    with SandboxServer(seed=0, static=True, live_interval=0.05) as server:
        before = server.state()
        time.sleep(0.3)
        assert server.state() == before


def test_live_mode_adds_one_item_per_interval() -> None:
    with SandboxServer(seed=0, messages=10, live_interval=0.1) as server:
        time.sleep(0.55)
        live = [i for i in server.state()["items"] if i["origin"] == "live"]
    assert 2 <= len(live) <= 6
    assert all(i["direction"] == "inbound" for i in live)


def test_generate_endpoint_adds_items_visible_through_the_api() -> None:
    with SandboxServer(seed=2, static=True) as server:
        newest = mentions(server).json()["meta"]["newest_id"]
        created = requests.post(
            f"{server.base_url}/__sandbox__/generate", json={"n": 12}, timeout=5
        ).json()["items"]
        assert len(created) == 12
        new_mentions = [i["id"] for i in created if i["channel"] == "mention"]
        body = mentions(server, since_id=newest).json()
        assert sorted(t["id"] for t in body.get("data", [])) == sorted(new_mentions)
