"""Personal data stays with its owner: the data folder is 0700, the database (with its -wal and
-shm), the configs socialdesk writes and every unmasked export are 0600, under a umask of 022
that would otherwise make them 0755/0644 for every user of the machine."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from socialdesk.paths import data_dir
from socialdesk.sandbox import write_config
from socialdesk.store.db import open_store
from tests.support import run_cli


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    """The usual umask: without socialdesk's care its files would be readable by all."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_its_config_0600_in_a_0700_folder(tmp_path: Path) -> None:
    config = tmp_path / "config" / "socialdesk" / "config.toml"
    result = run_cli("init", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert (mode(config), mode(config.parent)) == (0o600, 0o700)


def test_the_sandbox_config_is_0600_even_over_an_open_one(tmp_path: Path) -> None:
    config = write_config(tmp_path / "sandbox" / "config.toml", "http://127.0.0.1:9")
    assert (mode(config), mode(config.parent)) == (0o600, 0o700)
    config.chmod(0o644)
    write_config(config, "http://127.0.0.1:9")
    assert mode(config) == 0o600


def test_the_default_data_folder_and_database_are_private(tmp_path: Path) -> None:
    """No [database] url: SQLite in the data dir, as a new user gets it."""
    config = tmp_path / "config.toml"
    config.write_text("")
    result = run_cli("report", "conversations", "--config", str(config))
    assert result.returncode == 0, result.stderr
    database = data_dir() / "socialdesk.db"
    assert (mode(data_dir()), mode(database)) == (0o700, 0o600)


def test_the_wal_and_shm_files_are_0600_while_the_store_is_open(tmp_path: Path) -> None:
    database = tmp_path / "desk" / "store.db"
    engine = open_store(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE TABLE scratch (id INTEGER)"))
            connection.commit()
            companions = [database.with_name(database.name + end) for end in ("-wal", "-shm")]
            assert all(path.exists() for path in companions)
            assert [mode(path) for path in (database, *companions)] == [0o600] * 3
            assert mode(database.parent) == 0o700
    finally:
        engine.dispose()


def test_files_left_open_by_an_older_version_are_tightened_at_start(tmp_path: Path) -> None:
    folder = data_dir()
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)
    database = folder / "socialdesk.db"
    with sqlite3.connect(database) as connection:  # umask 022: a 0644 file, as before
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE leftover (id INTEGER)")
    assert mode(database) == 0o644
    config = tmp_path / "config.toml"
    config.write_text("")
    result = run_cli("report", "conversations", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert (mode(folder), mode(database)) == (0o700, 0o600)


def test_doctor_names_a_config_other_users_can_read(tmp_path: Path) -> None:
    folder = tmp_path / "desk"
    folder.mkdir(mode=0o700)
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{folder / "desk.db"}"\n')
    config.chmod(0o644)
    loose = run_cli("doctor", "--config", str(config))
    assert f"! private files: other users of this machine can read 1 of them: chmod 600 " \
           f"{config}" in loose.stdout
    config.chmod(0o600)
    tight = run_cli("doctor", "--config", str(config))
    assert ("✓ private files: the config, the tokens and the database are yours alone"
            in tight.stdout)


def test_an_unmasked_export_is_0600_and_a_masked_one_follows_the_umask(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "desk.db"}"\n'
                      '[reports]\nunmask_operators = ["AB"]\n')
    unmasked, masked = tmp_path / "out" / "clear.csv", tmp_path / "out" / "masked.csv"
    masked_run = run_cli("report", "messages", "--config", str(config), "-o", str(masked))
    assert masked_run.returncode == 0, masked_run.stderr
    unmasked.parent.mkdir(exist_ok=True)
    unmasked.write_text("an older export, readable by all\n")
    unmasked.chmod(0o644)
    clear_run = run_cli("report", "messages", "--unmask", "--as", "AB", "--config", str(config),
                        "-o", str(unmasked))
    assert clear_run.returncode == 0, clear_run.stderr
    assert (mode(unmasked), mode(masked)) == (0o600, 0o644)
    assert unmasked.read_text(encoding="utf-8").startswith("platform,account,channel,")
