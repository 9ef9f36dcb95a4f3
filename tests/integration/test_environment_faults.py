"""A full disk and a read-only store are the user's to fix, not bugs: one line, their own exit
code (74 EX_IOERR, 73 EX_CANTCREAT), no "unexpected error … please report it" (70), and
`run` logs one line per failed pass instead of a traceback.

The disk is really full and really read-only: a tmpfs of 1 MB, a read-only tmpfs or bind
mount (root only; every test machine of this project runs as root), and on PostgreSQL a
database set to `default_transaction_read_only`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import text

from socialdesk.errors import DiskFullError, StorageReadOnlyError, environment_fault
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from tests.integration.test_sync_sandbox import sandbox_keys, stored_keys

FULL_LINE = "socialdesk: disk full: "
READ_ONLY_LINE = "socialdesk: cannot write: "


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def mount_point(tmp_path: Path) -> Iterator[Path]:
    """An empty folder to mount on, unmounted (lazily, even if busy) after the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tiny or read-only filesystem needs root")
    folder = tmp_path / "db"
    folder.mkdir()
    yield folder
    unmount_all(folder)


def unmount_all(folder: Path) -> None:
    """Every mount stacked on `folder` (a bind mount onto itself is not seen by ismount)."""
    for _ in range(5):
        done = subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True,
                              timeout=30)
        if done.returncode != 0:
            return


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=7, static=True, messages=400) as server:
        server.start()
        yield server


def sandbox_config(sandbox: SandboxServer, folder: Path, database_url: str) -> Path:
    config = write_config(folder / "config.toml", sandbox.base_url)
    config.write_text(config.read_text().replace(
        f'url = "sqlite:///{folder / "socialdesk.db"}"', f'url = "{database_url}"'))
    return config


def socialdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialdesk", *args], capture_output=True, text=True,
        timeout=180, env={**os.environ, SANDBOX_TOKEN_ENV: "token"},
    )


def one_line(stderr: str, start: str) -> None:
    assert stderr.count("\n") == 1 and stderr.startswith(start), stderr
    assert "please report it" not in stderr


def test_a_full_disk_is_one_line_exit_74_and_the_next_sync_loses_nothing(
    sandbox: SandboxServer, mount_point: Path, tmp_path: Path
) -> None:
    mount("-t", "tmpfs", "-o", "size=1500k", "tmpfs", str(mount_point))
    config = sandbox_config(sandbox, tmp_path, f"sqlite:///{mount_point / 'socialdesk.db'}")
    full = socialdesk("sync", "--config", str(config))
    assert full.returncode == DiskFullError.exit_code == 74
    one_line(full.stderr, FULL_LINE)
    partial = sum(stored_keys_at(mount_point).values())
    mount("-o", "remount,size=64m", str(mount_point))  # space freed
    again = socialdesk("sync", "--config", str(config))
    assert again.returncode == 0, again.stderr
    stored = stored_keys_at(mount_point)
    assert set(stored) == sandbox_keys(sandbox) and max(stored.values()) == 1
    assert 0 < partial < len(stored), "the disk filled up during the sync, not before it"


def stored_keys_at(folder: Path) -> object:
    return stored_keys(folder / "config.toml")


def test_run_logs_one_line_per_failed_pass_not_a_traceback(
    sandbox: SandboxServer, mount_point: Path, tmp_path: Path
) -> None:
    mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point))
    config = sandbox_config(sandbox, tmp_path, f"sqlite:///{mount_point / 'socialdesk.db'}")
    config.write_text(config.read_text().replace(
        'platform = "x"\n', 'platform = "x"\npoll_seconds = { mentions = 2, dms = 2 }\n'))
    process = subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "run", "--config", str(config)],
        stderr=subprocess.PIPE, text=True, env={**os.environ, SANDBOX_TOKEN_ENV: "token"},
    )
    time.sleep(10)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    faults = [line for line in stderr.splitlines() if "failed: disk full: " in line]
    assert len(faults) >= 3, stderr  # the X streams retry every 2 s, one line each time
    assert "Traceback" not in stderr and "sqlite3.OperationalError" not in stderr


def test_a_read_only_data_folder_is_one_line_exit_73(
    sandbox: SandboxServer, mount_point: Path, tmp_path: Path
) -> None:
    mount("-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount_point))
    config = sandbox_config(sandbox, tmp_path, f"sqlite:///{mount_point / 'socialdesk.db'}")
    result = socialdesk("sync", "--config", str(config))
    assert result.returncode == StorageReadOnlyError.exit_code == 73
    one_line(result.stderr, READ_ONLY_LINE)
    assert "Read-only file system" in result.stderr


@pytest.fixture
def read_only_store(store_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A synced store, then made read-only: a read-only bind mount of the SQLite folder, or
    the PostgreSQL database set to refuse writes. Yields the URL and the folder."""
    folder = tmp_path / "db"
    if store_url.startswith("sqlite"):
        if os.geteuid() != 0:
            pytest.skip("a read-only bind mount needs root")
        folder.mkdir()
        yield f"sqlite:///{folder / 'socialdesk.db'}", folder
        unmount_all(folder)
        return
    yield store_url, folder


def make_read_only(url: str, folder: Path) -> None:
    if url.startswith("sqlite"):
        mount("--bind", str(folder), str(folder))
        mount("-o", "remount,bind,ro", str(folder))
        return
    _set_read_only(url, on=True)


def _set_read_only(url: str, on: bool) -> None:
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                                      isolation_level="AUTOCOMMIT")
    name = engine.url.database
    setting = "SET default_transaction_read_only = on" if on else \
        "RESET default_transaction_read_only"
    with engine.connect() as connection:
        connection.execute(text("SET default_transaction_read_only = off"))
        connection.execute(text(f'ALTER DATABASE "{name}" {setting}'))
    engine.dispose()


def test_a_read_only_store_is_one_line_exit_73(
    sandbox: SandboxServer, read_only_store: tuple[str, Path], tmp_path: Path
) -> None:
    url, folder = read_only_store
    config = sandbox_config(sandbox, tmp_path, url)
    first = socialdesk("sync", "--config", str(config))
    assert first.returncode == 0, first.stderr
    sandbox.generate(5)
    make_read_only(url, folder)
    try:
        result = socialdesk("sync", "--config", str(config))
    finally:
        if not url.startswith("sqlite"):
            _set_read_only(url, on=False)
    assert result.returncode == 73, result.stderr
    one_line(result.stderr, READ_ONLY_LINE)


def test_postgresql_disk_full_is_classified_as_such() -> None:
    """PostgreSQL's own disk is another machine's to fill: its SQLSTATE 53100 is read."""
    psycopg_errors = pytest.importorskip("psycopg.errors")
    wrapped = sqlalchemy.exc.OperationalError("INSERT …", {}, psycopg_errors.DiskFull(
        'could not extend file "base/16384/16385": No space left on device'))
    fault = environment_fault(wrapped)
    assert isinstance(fault, DiskFullError) and "No space left on device" in fault.message
