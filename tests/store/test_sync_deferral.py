"""A walk that stops at its page cap is deferred, not failed: what it read is kept, the
stream shows no error, and `sync` would exit 75 (a page-token loop still fails: exit 1)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from connectors.base import (
    AccountSettings,
    Channel,
    Connector,
    Direction,
    InboundItem,
    PaginationLoop,
    PullPage,
    WalkIncomplete,
)
from socialdesk.commands.sync_once import sync_exit_code
from socialdesk.config import settings_from_mapping
from socialdesk.sandbox import sandbox_config_text
from socialdesk.service.hours import hours_for
from socialdesk.store.ingest import ensure_account
from socialdesk.store.models import Message, SyncCursor
from socialdesk.sync import AccountResult, SyncContext, _DueRules, _sync_stream, detector_for

NOW = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)


class StoppingConnector(Connector):
    """One page of DMs, then the signal a real walk raises at its cap or on a loop."""

    platform = "x"
    streams = ("dms",)
    signal: Exception = WalkIncomplete("stopped after 10 pages; the next pass goes on")

    def __init__(self, account: AccountSettings) -> None:
        self.account = account

    def pull(self, stream: str, cursor: str | None) -> Iterator[PullPage]:  # noqa: ARG002
        item = InboundItem(platform="x", external_id="dm-1", channel=Channel.DM,
                           direction=Direction.INBOUND, thread_key="1-2", text="ciao",
                           created_at=NOW - timedelta(hours=1), author_id="2")
        yield PullPage(stream=stream, items=[item])
        raise self.signal


def pull_once(store: Engine, signal: Exception) -> AccountResult:
    settings = settings_from_mapping(
        tomllib.loads(sandbox_config_text("http://127.0.0.1:9", "sqlite://")), source="test")
    config = settings.account("sandbox-x")
    account = ensure_account(store, config.name, config.platform, now=NOW)
    connector = StoppingConnector(AccountSettings(config.name, "x", None, {}))
    connector.signal = signal
    context = SyncContext(settings, store, detector_for(settings), lambda: NOW)
    rules = _DueRules(hours_for(settings.hours, config), settings.sla.first_response_minutes)
    stream = _sync_stream(context, account, connector, "dms", "account:sandbox-x", rules)
    return AccountResult(config.name, [stream])


def test_a_walk_stopped_at_its_page_cap_is_deferred_and_keeps_what_it_read(
    store: Engine,
) -> None:
    result = pull_once(store, WalkIncomplete("stopped after 10 pages; the next pass goes on"))
    (stream,) = result.streams
    assert stream.error is None and not stream.failed
    assert stream.deferral == "stopped after 10 pages; the next pass goes on"
    assert stream.new_messages == 1
    assert sync_exit_code([result]) == 75
    with Session(store) as session:
        assert session.exec(select(Message.external_id)).all() == ["dm-1"]
        state = session.exec(select(SyncCursor)).one()
    assert state.last_error is None and state.rate_limited_until is None


def test_a_page_token_loop_still_fails(store: Engine) -> None:
    result = pull_once(store, PaginationLoop("next_token repeated"))
    assert result.streams[0].failed and sync_exit_code([result]) == 1
