"""On PostgreSQL a pulled page's commit does not wait for the disk; the outbox's record of a
sent action, which no later pass would repair, does."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from connectors.base import PullPage
from socialdesk.clock import system_clock
from socialdesk.store.ingest import ensure_account, ingest_page
from tests.support import item

ON_POSTGRES = pytest.mark.parametrize("store_url", [pytest.param(
    "postgresql", marks=pytest.mark.postgres)], indirect=True)


def commit_setting(store: Engine, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> str:
    """`synchronous_commit` as the page's transaction stands just before its commit."""
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    seen: list[str] = []
    commit = Session.commit

    def reading(session: Session) -> None:
        seen.append(session.connection().execute(
            text("SELECT current_setting('synchronous_commit')")).scalar_one())
        commit(session)

    with Session(store) as session:
        monkeypatch.setattr(Session, "commit", reading)
        ingest_page(session, account, PullPage("mentions", [item("1")], cursor="1"),
                    now=system_clock(), **kw)
        monkeypatch.undo()
        after = session.connection().execute(
            text("SELECT current_setting('synchronous_commit')")).scalar_one()
    assert after == "on"  # this transaction only: the connection goes back to the pool
    (setting,) = seen
    return str(setting)


@ON_POSTGRES
def test_a_pulled_page_commits_without_waiting_for_the_disk(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert commit_setting(store, monkeypatch) == "off"


@ON_POSTGRES
def test_a_page_nothing_would_fetch_again_commits_to_disk(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert commit_setting(store, monkeypatch, refetchable=False) == "on"
