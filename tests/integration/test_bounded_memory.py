"""A page over the size cap is refused unread: memory stays bounded and the watermark stays put.

The sandbox's oversized faults serve a 150 MB page made block by block (with a Content-Length,
chunked without one, or as a gzip of a few hundred KB), so the tests stay small themselves.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine
from sqlmodel import Session, select

from connectors._http import ResponseTooLarge
from connectors.base import AccountSettings, Connector
from connectors.facebook import FacebookConnector
from connectors.x import XConnector
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.sandbox.faults import HUGE_PAGE_BYTES, OVERSIZED_KINDS
from socialdesk.sandbox.state import FACEBOOK_PAGE_ID, X_USER_ID
from socialdesk.store.models import Account, SyncCursor

MB = 1024 * 1024
X_SECRETS = ("bearer_token", "consumer_key", "consumer_secret", "access_token",
             "access_token_secret")


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=7, static=True, messages=80) as server:
        server.start()
        yield server


def connector(platform: str, base_url: str, max_response_mb: int) -> tuple[Connector, str]:
    """A real connector on the sandbox and the stream the fault targets."""
    if platform == "x":
        account = AccountSettings("x", "x", base_url, dict.fromkeys(X_SECRETS, "token"),
                                  {"user_id": X_USER_ID, "max_response_mb": max_response_mb})
        return XConnector(account), "mentions"
    account = AccountSettings("fb", "facebook", base_url, {"page_token": "token"},
                              {"page_id": FACEBOOK_PAGE_ID, "max_response_mb": max_response_mb})
    return FacebookConnector(account), "feed"


@pytest.mark.parametrize("kind", OVERSIZED_KINDS)
@pytest.mark.parametrize(("platform", "target"), [("x", "x.mentions"),
                                                  ("facebook", "facebook.feed")])
def test_an_oversized_page_is_refused_without_being_held(
    sandbox: SandboxServer, kind: str, platform: str, target: str
) -> None:
    pull, stream = connector(platform, sandbox.base_url, max_response_mb=2)
    sandbox.inject({"target": target, "kind": kind})
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLarge, match=r"over the 2 MB cap .*max_response_mb"):
            list(pull.pull(stream, None))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * 2 * MB < HUGE_PAGE_BYTES
    assert sandbox.faults.pending() == [], "the refused page was not fetched a second time"
    pages = list(pull.pull(stream, None))
    assert sum(len(page.items) for page in pages) > 0, "the next pull reads normally"


@pytest.mark.parametrize("kind", OVERSIZED_KINDS)
def test_the_sandbox_serves_a_whole_valid_150_mb_page_without_holding_it(
    sandbox: SandboxServer, kind: str
) -> None:
    """Read raw, block by block: the page is real (so a connector without a cap would hold
    all of it), its framing is as the kind says, and the test itself stays small."""
    sandbox.inject({"target": "facebook.feed", "kind": kind})
    url = f"{sandbox.base_url}/v25.0/{FACEBOOK_PAGE_ID}/feed?access_token=token"
    with requests.get(url, stream=True, timeout=30) as response:
        framing = (response.headers.get("content-length"),
                   response.headers.get("transfer-encoding"),
                   response.headers.get("content-encoding"))
        size, head, tail = 0, b"", b""
        for block in response.iter_content(1024 * 1024):
            head = head or block[:20]
            tail = (tail + block)[-3:]
            size += len(block)
    assert size == HUGE_PAGE_BYTES
    assert head.startswith(b'{"data":[]') and tail == b'"}}'
    assert framing == {"huge_page": (str(HUGE_PAGE_BYTES), None, None),
                       "huge_page_chunked": (None, "chunked", None),
                       "gzip_bomb": (None, "chunked", "gzip")}[kind]


def run_sync(config: Path) -> tuple[int, str, int]:
    """`socialdesk sync` in a child process: exit code, stderr, and its peak RSS in bytes."""
    process = subprocess.Popen(
        [sys.executable, "-m", "socialdesk", "sync", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, SANDBOX_TOKEN_ENV: "token"},
    )
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, stderr, usage.ru_maxrss * 1024


def test_a_sync_meeting_a_150_mb_page_stays_in_bounded_memory(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    clean = write_config(tmp_path / "clean" / "config.toml", sandbox.base_url)
    code, stderr, clean_peak = run_sync(clean)
    assert code == 0, stderr
    faulted = write_config(tmp_path / "faulted" / "config.toml", sandbox.base_url)
    sandbox.inject({"target": "x.mentions", "kind": "huge_page_chunked"})
    code, stderr, faulted_peak = run_sync(faulted)
    assert code == 1, stderr
    # the default cap is 20 MB: the body is held at most once, then refused
    assert faulted_peak < clean_peak + 64 * MB, (clean_peak // MB, faulted_peak // MB)
    assert "over the 20 MB cap" in stderr and "Traceback" not in stderr


def test_the_refused_stream_keeps_its_watermark_and_resumes(
    sandbox: SandboxServer, tmp_path: Path, store_url: str
) -> None:
    config = write_config(tmp_path / "config.toml", sandbox.base_url)
    config.write_text(config.read_text().replace(
        'platform = "x"\n', 'platform = "x"\nmax_response_mb = 1\n'
    ).replace(f'url = "sqlite:///{tmp_path / "socialdesk.db"}"', f'url = "{store_url}"'))
    sandbox.inject({"target": "x.mentions", "kind": "gzip_bomb"})
    code, stderr, _ = run_sync(config)
    assert code == 1, stderr
    failed = [line for line in stderr.splitlines() if "cap" in line]
    assert len(failed) == 1 and "over the 1 MB cap" in failed[0]
    assert mentions_cursor(store_url) == (None, True)
    code, stderr, _ = run_sync(config)
    assert code == 0, stderr
    watermark, capped = mentions_cursor(store_url)
    assert watermark is not None and not capped
    assert "mentions +25" in stderr


def mentions_cursor(url: str) -> tuple[str | None, bool]:
    """The X mentions watermark, and whether its last error names the size cap."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with Session(engine) as session:
            row = session.exec(
                select(SyncCursor).join(Account, Account.id == SyncCursor.account_id)
                .where(Account.name == "sandbox-x", SyncCursor.stream == "mentions")
            ).one()
            return row.cursor, "cap" in (row.last_error or "")
    finally:
        engine.dispose()
