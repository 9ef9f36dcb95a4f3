"""Opens the store: engine, SQLite pragmas, and the Alembic upgrade on start."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidatePoolError
from sqlmodel import Session, create_engine

from socialdesk.errors import DatabaseError, environment_fault
from socialdesk.paths import (
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    data_dir,
    make_private_dir,
    tighten,
)

# kept importable from here, their home before issue 16
from socialdesk.store.statistics import analyzed_rows as analyzed_rows
from socialdesk.store.statistics import refresh_statistics as refresh_statistics

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

    from socialdesk.config import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK_ID = 0x50C1A1DE5C
"""PostgreSQL advisory lock key held while migrating, so two processes never race."""


def create_store_engine(url: str) -> Engine:
    """An engine with the pragmas socialdesk relies on; creates the SQLite file's folder."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"database.url {url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    try:
        engine = create_engine(url)
    except ModuleNotFoundError as error:
        raise DatabaseError(
            f"the driver for {parsed.drivername} is not installed ({error.name}); "
            "install socialdesk[postgres]"
        ) from None
    event.listen(engine, "connect", _note_idle)
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", functools.partial(_ping_when_idle, engine.dialect))
    return engine


PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled connection idle this long is pinged before use, and replaced if the server
dropped it (as `pool_pre_ping` does, which pinged at every checkout: a round trip more for
each of a busy process's statements, a sixth of a take-next's time). A connection in use
less than this ago is trusted: if the server dropped it meanwhile, the one statement on it
fails, the pool is emptied, and the next checkout connects afresh."""


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_when_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """At checkout: the pre-ping, for a connection idle `PING_AFTER_IDLE_SECONDS` or more.
    A failed ping replaces it, and the pool's connections older than it (the server
    restarted, they are gone too), before the caller sees it."""
    since = record.info.get("idle_since")
    if since is not None and time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)  # the pool's own pre-ping: outside a transaction
    except Exception as error:  # noqa: BLE001  (any driver error: the connection is unusable)
        raise InvalidatePoolError(f"a pooled connection did not answer: {error}") from error


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        _private_sqlite_files(Path(database).expanduser())
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


SQLITE_COMPANIONS = ("-wal", "-shm", "-journal", ".migrate.lock")


def _private_sqlite_files(database: Path) -> None:
    """The database file exists 0600 before SQLite opens it, so its -wal and -shm, which
    SQLite creates with the database's own mode, are 0600 too. Files left looser by an
    older socialdesk are tightened, and so is the default data folder; a folder the user
    chose is theirs, and `socialdesk doctor` warns when others can enter it."""
    folder = database.parent
    try:
        if folder == data_dir():
            tighten(folder, PRIVATE_DIR_MODE)
        make_private_dir(folder)
        if not database.exists():
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
        for path in (database, *(database.with_name(database.name + end)
                                 for end in SQLITE_COMPANIONS)):
            tighten(path, PRIVATE_FILE_MODE)
    except OSError as error:
        raise environment_fault(error) or DatabaseError(
            f"cannot create the database {database}: {error.strerror or error}") from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Per connection: WAL so readers never block the sync, and FKs that SQLite leaves off."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; safe when several processes start at once."""
    from alembic import command  # a third of the desk's start-up: only when there is work

    try:
        with _migration_lock(engine):
            command.upgrade(alembic_config(engine), "head")
    except DBAPIError as error:
        fault = environment_fault(error)
        raise fault or DatabaseError(f"cannot open or upgrade the database: {error.orig}") from None


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_ID})
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_ID}
                )
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    descriptor = os.open(f"{database}.migrate.lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "a+b") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def open_store(url: str) -> Engine:
    """The engine for `url`, upgraded to the current schema."""
    engine = create_store_engine(url)
    if not at_newest_revision(engine):
        upgrade(engine)
    return engine


@functools.cache
def newest_revision() -> str:
    """The head migration, from the file names (`NNNN_name.py` holds revision NNNN, a test
    checks it against Alembic): knowing it without Alembic saves ~0.4 s of every start."""
    versions = (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    return max(path.name.split("_", 1)[0] for path in versions)


def at_newest_revision(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            stamped = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # a new database: no version table yet
        return False
    return [row[0] for row in stamped] == [newest_revision()]


def new_session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def open_configured_store(settings: Settings) -> Engine:
    """The store the config names, migrated to the current schema."""
    return open_store(settings.database.effective_url)
