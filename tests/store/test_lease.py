"""The per-account lease: one holder at a time, and a dead holder on this host is replaced."""

from __future__ import annotations

import socket
import subprocess
import sys

from sqlalchemy import Engine

from socialdesk import lease


def test_only_one_owner_holds_the_lease(store: Engine) -> None:
    assert lease.acquire(store, "account:a", "host:1:one")
    assert not lease.acquire(store, "account:a", "host:2:two")
    assert lease.acquire(store, "account:a", "host:1:one"), "the holder can renew"


def test_a_released_lease_can_be_taken(store: Engine) -> None:
    assert lease.acquire(store, "account:a", "host:1:one")
    lease.release(store, "account:a", "host:1:one")
    assert lease.acquire(store, "account:a", "host:2:two")


def test_an_expired_lease_can_be_taken(store: Engine) -> None:
    assert lease.acquire(store, "account:a", "host:1:one", ttl=-1)
    assert lease.acquire(store, "account:a", "host:2:two")


def test_a_killed_holder_on_this_host_does_not_block_the_next_run(store: Engine) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale_owner = f"{socket.gethostname()}:{dead.stdout.strip()}:cafe"
    assert lease.acquire(store, "account:a", stale_owner)
    assert lease.acquire(store, "account:a", lease.new_owner_id())


def test_a_live_holder_elsewhere_is_respected(store: Engine) -> None:
    assert lease.acquire(store, "account:a", "other-host:1:one")
    assert not lease.acquire(store, "account:a", lease.new_owner_id())
