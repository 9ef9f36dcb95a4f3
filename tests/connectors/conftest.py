"""Fixtures for connector tests: the loopback replay server, the shared recordings, accounts."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from connector_helpers import FB_PAGE_ID, FB_SECRETS, NOW, X_SECRETS, X_USER_ID
from replay import ReplayServer

from connectors._http import RetryPolicy
from connectors.base import AccountSettings
from connectors.facebook import FacebookConnector
from connectors.x import XConnector


def _shared_dir() -> Path:
    configured = os.environ.get("SOCIALDESK_SHARED")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / ".." / "shared"


@pytest.fixture(scope="session")
def recorded_dir() -> Path:
    """`shared/testdata/recorded/`, read at test time and never copied into the repo."""
    recorded = _shared_dir() / "testdata" / "recorded"
    if not recorded.is_dir():
        reason = (f"shared recordings not found at {recorded}; "
                  "set SOCIALDESK_SHARED to the folder that holds testdata/recorded")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return recorded


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    server = ReplayServer().start()
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> list[float]:
    """The backoff waits a connector asked for; nothing really sleeps."""
    return []


@pytest.fixture
def fast_retry(sleeps: list[float]) -> RetryPolicy:
    return RetryPolicy(sleep=sleeps.append, jitter=lambda: 0.5)


@pytest.fixture
def x_connector(
    replay_server: ReplayServer, fast_retry: RetryPolicy
) -> Callable[..., XConnector]:
    def build(**options: Any) -> XConnector:
        account = AccountSettings(
            name="brand-x", platform="x", base_url=replay_server.base_url,
            secrets=X_SECRETS, options={"user_id": X_USER_ID, **options},
        )
        return XConnector(account, retry=fast_retry, now=lambda: NOW)
    return build


@pytest.fixture
def facebook_connector(
    replay_server: ReplayServer, fast_retry: RetryPolicy
) -> Callable[..., FacebookConnector]:
    def build(**options: Any) -> FacebookConnector:
        account = AccountSettings(
            name="brand-fb", platform="facebook", base_url=replay_server.base_url,
            secrets=FB_SECRETS, options={"page_id": FB_PAGE_ID, **options},
        )
        return FacebookConnector(account, retry=fast_retry, now=lambda: NOW)
    return build
