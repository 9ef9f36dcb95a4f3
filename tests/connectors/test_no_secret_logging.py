"""With root logging at DEBUG, a replayed sync leaks no token and no message text.

socialdesk pins the third-party loggers (tweepy, urllib3, requests_oauthlib, oauthlib) at
INFO, because tweepy logs whole response bodies and urllib3 logs query strings; this test
does the same and checks what is left: the connectors' own lines and any warnings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from connector_helpers import ALL_SECRET_VALUES, cassette, pull_all
from replay import ReplayServer

from connectors.base import ConnectorError
from connectors.facebook import FacebookConnector
from connectors.x import XConnector

WATERMARK = '{"watermark": "2026-11-20T10:00:00+00:00"}'

PINNED_LOGGERS = ("tweepy", "urllib3", "requests_oauthlib", "oauthlib")

MESSAGE_TEXTS = ("my order never arrived", "thanks, got it", "My parcel is lost",
                 "Hi, my parcel never came")


@pytest.fixture
def debug_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    saved = {name: logging.getLogger(name).level for name in PINNED_LOGGERS}
    for name in PINNED_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    caplog.set_level(logging.DEBUG)
    yield caplog
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_replayed_syncs_log_no_tokens_or_message_text(
    replay_server: ReplayServer,
    x_connector: Callable[..., XConnector],
    facebook_connector: Callable[..., FacebookConnector],
    debug_logging: pytest.LogCaptureFixture,
) -> None:
    for name in ("mentions_two_pages", "dms_stop_at_known_id", "mentions_5xx_storm"):
        replay_server.add_cassette(cassette("x", name))
    for name in ("feed_visitor_posts_and_comments", "messenger_conversations",
                 "graph_error_190_expired"):
        replay_server.add_cassette(cassette("facebook", name))

    x, facebook = x_connector(), facebook_connector()
    pull_all(x, "mentions", None)
    pull_all(x, "dms", "1900000000000000402")
    pull_all(facebook, "feed", WATERMARK)
    pull_all(facebook, "messenger", WATERMARK)
    for stream, connector in (("mentions", x), ("feed", facebook)):
        with pytest.raises(ConnectorError) as caught:
            pull_all(connector, stream, None)
        logging.getLogger("test").error("sync failed: %s", caught.value)

    assert not replay_server.unexpected
    records = debug_logging.records
    assert any(r.name.startswith("connectors.") for r in records)
    logged = "\n".join(r.getMessage() for r in records)
    for secret in ALL_SECRET_VALUES:
        assert secret not in logged
    assert "access_token=" not in logged
    own_lines = "\n".join(r.getMessage() for r in records if r.name.startswith("connectors"))
    for text in MESSAGE_TEXTS:
        assert text not in own_lines
