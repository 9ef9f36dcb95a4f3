"""The migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlmodel import Session, SQLModel

from connectors.base import PullPage
from socialdesk.clock import system_clock
from socialdesk.store.db import (
    alembic_config,
    create_store_engine,
    newest_revision,
    open_store,
)
from socialdesk.store.ingest import ensure_account, ingest_page
from tests.support import item


def _not_full_text(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """As `migrations/env.py`: the full-text table and index (0004) are hand-written."""
    return not (type_ in ("table", "index") and name is not None
                and name.startswith("message_fts"))


def test_migrations_match_the_models(store: Engine) -> None:
    with store.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"render_as_batch": True, "include_object": _not_full_text}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def _open(url: str) -> None:
    open_store(url).dispose()


def test_two_processes_creating_the_database_at_once_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_open, args=(url,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    engine = open_store(url)
    assert "message" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_newest_revision_read_from_file_names_is_alembics_head(store: Engine) -> None:
    """Start-up skips Alembic when the store is at this revision: the two must agree."""
    assert newest_revision() == ScriptDirectory.from_config(
        alembic_config(store)).get_current_head()


def test_a_store_behind_the_newest_revision_is_upgraded_on_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_store_engine(url)
    command.upgrade(alembic_config(engine), "0004")
    assert "privacy_exposure" not in inspect(engine).get_table_names()
    engine.dispose()
    engine = open_store(url)
    assert "privacy_exposure" in inspect(engine).get_table_names()
    engine.dispose()


def test_enum_columns_store_their_text_and_read_back_the_member(store: Engine) -> None:
    """`StoredEnum`: the database holds the plain value (CSV, SQL and old rows agree), the
    code gets the enum member back, from the ORM and from Core alike."""
    from sqlalchemy import select, text
    from sqlmodel import select as orm_select

    from socialdesk.store.models import Conversation, Status
    from socialdesk.store.tables import CONVERSATION

    account = ensure_account(store, "brand-x", "x", now=system_clock())
    with Session(store) as session:
        ingest_page(session, account, PullPage(stream="mentions", items=[item("1")]),
                    now=system_clock())
        conversation = session.exec(orm_select(Conversation)).one()
        conversation.status = Status.OPEN
        session.add(conversation)
        session.commit()
    with store.connect() as connection:
        assert connection.execute(text("SELECT status FROM conversation")).scalar() == "open"
        core_status = connection.execute(select(CONVERSATION.c.status)).scalar()
    with Session(store) as session:
        orm_status = session.exec(orm_select(Conversation.status)).one()
    assert core_status is Status.OPEN and orm_status is Status.OPEN
