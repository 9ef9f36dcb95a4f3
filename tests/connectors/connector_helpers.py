"""Constants and small helpers shared by the connector tests."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Connector, PullPage

CASSETTES = Path(__file__).parents[1] / "data" / "cassettes"
"""Our own scenarios, for what the shared recordings lack."""

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
"""The frozen clock of every connector under test; the scenarios' dates are around it."""

X_USER_ID = "9000"
FB_PAGE_ID = "1000"

X_SECRETS = {
    "bearer_token": "AAAAxBearerSecretValue0001",
    "consumer_key": "ConsumerKeySecretValue0002",
    "consumer_secret": "ConsumerSecretSecretValue0003",
    "access_token": "9000-AccessTokenSecretValue0004",
    "access_token_secret": "AccessTokenSecretSecretValue0005",
}
FB_SECRETS = {"page_token": "EAAGPageTokenSecretValue0006"}
ALL_SECRET_VALUES = [*X_SECRETS.values(), *FB_SECRETS.values()]


def read_recorded_json(recorded_dir: Path, relative: str) -> Any:
    return json.loads((recorded_dir / relative).read_text(encoding="utf-8"))


def cassette(platform: str, name: str) -> Path:
    return CASSETTES / platform / f"{name}.yaml"


def pull_all(connector: Connector, stream: str, cursor: str | None) -> list[PullPage]:
    return list(connector.pull(stream, cursor))


def assert_cursor_only_on_last_page(pages: list[PullPage]) -> None:
    assert pages, "a pull yields at least one page"
    assert all(page.cursor is None for page in pages[:-1])


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
