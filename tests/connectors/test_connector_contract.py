"""One suite for every connector registered under `socialdesk.connectors`."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from connector_helpers import FB_PAGE_ID, FB_SECRETS, NOW, X_SECRETS, X_USER_ID, cassette
from replay import ReplayServer

from connectors._http import RetryPolicy
from connectors.base import AccountSettings, ConfigurationError, Connector, PullPage

REGISTERED = {ep.name: ep for ep in entry_points(group="socialdesk.connectors")}

SCENARIOS = {
    ("x", "mentions"): ("x", "mentions_two_pages", "1900000000000000050"),
    ("x", "dms"): ("x", "dms_stop_at_known_id", "1900000000000000402"),
    ("facebook", "feed"): ("facebook", "feed_visitor_posts_and_comments",
                           '{"watermark": "2026-11-20T10:00:00+00:00"}'),
    ("facebook", "messenger"): ("facebook", "messenger_conversations",
                                '{"watermark": "2026-11-20T10:00:00+00:00"}'),
}
"""A replayed pull with new items for every stream of every connector."""

SETTINGS = {
    "x": (X_SECRETS, {"user_id": X_USER_ID}),
    "facebook": (FB_SECRETS, {"page_id": FB_PAGE_ID}),
}


def test_both_connectors_are_registered() -> None:
    assert set(REGISTERED) >= {"x", "facebook"}


def build(platform: str, base_url: str | None) -> Connector:
    secrets, options = SETTINGS[platform]
    account = AccountSettings(name=f"brand-{platform}", platform=platform, base_url=base_url,
                              secrets=secrets, options=options)
    cls = REGISTERED[platform].load()
    return cls(account, retry=RetryPolicy(sleep=lambda _: None), now=lambda: NOW)  # type: ignore[no-any-return]


@pytest.mark.parametrize("platform", sorted(SETTINGS))
def test_platform_name_matches_its_entry_point(platform: str) -> None:
    cls = REGISTERED[platform].load()
    assert issubclass(cls, Connector)
    assert cls.platform == platform
    assert {stream for p, stream in SCENARIOS if p == platform} == set(cls.streams)


@pytest.mark.parametrize("platform", sorted(SETTINGS))
def test_missing_options_are_a_configuration_error(platform: str) -> None:
    secrets, _ = SETTINGS[platform]
    account = AccountSettings(name="brand", platform=platform, base_url=None, secrets=secrets)
    with pytest.raises(ConfigurationError):
        REGISTERED[platform].load()(account)


@pytest.mark.parametrize(("platform", "stream"), sorted(SCENARIOS))
def test_pull_yields_well_formed_pages(
    replay_server: ReplayServer, platform: str, stream: str
) -> None:
    folder, name, cursor = SCENARIOS[(platform, stream)]
    replay_server.add_cassette(cassette(folder, name))
    pages: list[PullPage] = list(build(platform, replay_server.base_url).pull(stream, cursor))

    items = [item for page in pages for item in page.items]
    assert items, "the scenario has new items"
    assert all(page.stream == stream for page in pages)
    assert pages[-1].cursor is not None and pages[-1].cursor != cursor
    assert len({item.external_id for item in items}) == len(items)
    for item in items:
        assert item.platform == platform
        assert item.external_id and item.thread_key
        assert item.created_at.utcoffset() is not None
        assert item.raw, "the original payload is kept"


def test_connectors_import_nothing_of_socialdesk_or_the_ui() -> None:
    code = (
        "import sys, connectors.x, connectors.facebook\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'socialdesk', 'sqlmodel', 'sqlalchemy', 'textual', 'apscheduler'})\n"
        "print(','.join(bad))"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=root, check=True)
    assert result.stdout.strip() == ""
