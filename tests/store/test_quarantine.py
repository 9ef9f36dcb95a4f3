"""The quarantine table: one row per set-aside item, attempts, resolution; migration 0010."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from connectors.base import AccountSettings, Connector, PullPage, QuarantinedItem
from socialdesk.store import quarantine
from socialdesk.store.db import MIGRATIONS_DIR, alembic_config, create_store_engine, open_store
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.models import Account, QuarantineEntry
from socialdesk.store.quarantine import fingerprint
from tests.support import item

T1 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
T2 = T1 + timedelta(minutes=5)


@pytest.fixture
def x_account(store: Engine) -> Account:
    return ensure_account(store, "brand-x", "x", now=T1)


def ingest(store: Engine, account: Account, page: PullPage, now: datetime) -> int:
    with Session(store) as session:
        return ingest_page(session, account, page, now=now).quarantined


def entries(store: Engine) -> list[QuarantineEntry]:
    with Session(store) as session:
        return list(session.exec(select(QuarantineEntry).order_by(col(QuarantineEntry.id))))


def test_an_item_set_aside_twice_is_one_row_with_two_attempts_and_the_last_reason(
    store: Engine, x_account: Account
) -> None:
    first = QuarantinedItem("mention without text", {"data": {"id": "7"}}, external_id="7")
    nameless = QuarantinedItem("mention is a number, not an object", {"data": 7})
    ingest(store, x_account, PullPage("mentions", [], [first, nameless]), T1)
    again = QuarantinedItem("mention text is a number, not text",
                            {"data": {"id": "7", "text": 1}}, external_id="7")
    ingest(store, x_account, PullPage("mentions", [], [again, nameless]), T2)

    (by_id, by_body) = entries(store)
    assert (by_id.external_id, by_id.attempts, by_id.reason, by_id.raw) == (
        "7", 2, "mention text is a number, not text", {"data": {"id": "7", "text": 1}})
    assert (by_id.received_at, by_id.last_attempt_at, by_id.resolved_at) == (T1, T2, None)
    assert (by_body.external_id, by_body.attempts) == (None, 2)


def test_a_row_is_resolved_when_its_item_arrives_whole_and_not_set_aside_again(
    store: Engine, x_account: Account
) -> None:
    broken = QuarantinedItem("mention without text", {"data": {"id": "8"}}, external_id="8")
    ingest(store, x_account, PullPage("mentions", [], [broken]), T1)
    ingest(store, x_account, PullPage("mentions", [item("8")]), T2)
    (entry,) = entries(store)
    assert entry.resolved_at == T2

    assert ingest(store, x_account, PullPage("mentions", [], [broken]), T2) == 0
    (entry,) = entries(store)
    assert (entry.attempts, entry.resolved_at) == (1, T2)


class _StillUnreadable(Connector):
    """Reads nothing yet: every stored payload stays set aside."""

    platform = "x"
    streams = ("mentions",)

    def __init__(self, account: AccountSettings) -> None:
        self.account = account

    def pull(self, stream: str, cursor: str | None) -> Iterator[PullPage]:
        raise AssertionError(f"re-reading must not pull ({stream}, {cursor})")

    def reparse(self, stream: str, raw: Mapping[str, Any]) -> QuarantinedItem:
        return QuarantinedItem(f"still unreadable in {stream}", raw)


def test_a_pass_re_reads_the_longest_untried_rows_first_so_each_gets_its_turn(
    store: Engine, x_account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(quarantine, "REREAD_BATCH", 1)
    broken = [QuarantinedItem("mention without text", {"data": {"id": n}}, external_id=n)
              for n in ("1", "2")]
    ingest(store, x_account, PullPage("mentions", [], broken), T1)
    connector = _StillUnreadable(AccountSettings("brand-x", "x", None, {}))
    for moment in (T2, T2 + timedelta(minutes=5)):
        with Session(store) as session:
            outcome = quarantine.reread(session, x_account, connector, "mentions")
            quarantine.settle(session, outcome, now=moment)

    assert [(e.external_id, e.attempts, e.reason) for e in entries(store)] == [
        ("1", 2, "still unreadable in mentions"), ("2", 2, "still unreadable in mentions")]


def _migration_0010() -> ModuleType:
    path = next((MIGRATIONS_DIR / "versions").glob("0010_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0010", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("raw", [{"data": {"id": "1", "text": 2}}, {"value": [1, "a"]}, {}])
@pytest.mark.parametrize("external_id", ["1900000000000000301", None, ""])
def test_the_migrations_fingerprint_is_a_frozen_copy_of_the_codes(
    raw: dict[str, object], external_id: str | None
) -> None:
    assert _migration_0010().fingerprint(external_id, raw) == fingerprint(external_id, raw)


def test_migration_0010_merges_the_rows_an_item_left_on_every_pass(store_url: str) -> None:
    engine = create_store_engine(store_url)
    command.upgrade(alembic_config(engine), "0007")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO account (name, platform, health, created_at) "
                                "VALUES ('brand-x', 'x', 'ok', :at)"), {"at": T1})
        rows = [("7", {"id": "7"}, T1, "without text"), (None, {"v": 1}, T1, "not an object"),
                ("7", {"id": "7", "text": 1}, T2, "text is a number"),
                (None, {"v": 1}, T2, "not an object")]
        for external_id, raw, at, reason in rows:
            connection.execute(
                text("INSERT INTO quarantine (account_id, stream, external_id, reason, raw, "
                     "received_at) VALUES (1, 'mentions', :external_id, :reason, :raw, :at)"),
                {"external_id": external_id, "reason": reason, "at": at,
                 "raw": json.dumps(raw)})
    engine.dispose()
    upgraded = open_store(store_url)

    merged = entries(upgraded)
    assert [(e.external_id, e.attempts, e.reason, e.raw, e.received_at, e.last_attempt_at)
            for e in merged] == [
        ("7", 2, "text is a number", {"id": "7", "text": 1}, T1, T2),
        (None, 2, "not an object", {"v": 1}, T1, T2),
    ]
    assert [e.fingerprint for e in merged] == ["id:7", fingerprint(None, {"v": 1})]
    upgraded.dispose()
