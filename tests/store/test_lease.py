"""The per-account lease: one holder at a time; a dead, zombie or replaced holder on this host
is taken over at once, a holder elsewhere only when its lease expires."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import psutil
from sqlalchemy import Engine

from socialdesk.store import lease


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


def _waiting_child() -> subprocess.Popen[bytes]:
    """A process of ours that lives until its stdin closes."""
    return subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE)


def _until_zombie(pid: int) -> None:
    """Wait, without reaping it (Popen.poll would), until the exited child is a zombie."""
    deadline = time.monotonic() + 30
    while psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the child never exited"
        time.sleep(0.02)


def test_a_zombie_holder_on_this_host_is_taken_over_at_once(store: Engine) -> None:
    """`timeout -s KILL 4 socialdesk sync` leaves a zombie where init does not reap: its
    pid still answers kill(0), but the process will never renew its lease."""
    child = _waiting_child()
    try:
        assert lease.acquire(store, "account:a", lease.new_owner_id(child.pid))
        assert child.stdin is not None
        child.stdin.close()
        _until_zombie(child.pid)
        assert lease.acquire(store, "account:a", lease.new_owner_id())
    finally:
        child.wait(30)


def test_a_holder_whose_pid_was_reused_is_taken_over(store: Engine) -> None:
    """This test's own pid, recorded with another start time: a dead sync's pid given to a
    new process (here, us) must not keep the account blocked."""
    reused = f"{socket.gethostname()}:{os.getpid()}:1000000.00:cafe"
    assert lease.acquire(store, "account:a", reused)
    assert lease.acquire(store, "account:a", lease.new_owner_id())


def test_a_live_holder_on_this_host_is_respected(store: Engine) -> None:
    child = _waiting_child()
    try:
        holder = lease.new_owner_id(child.pid)
        assert lease.acquire(store, "account:a", holder)
        assert not lease.acquire(store, "account:a", lease.new_owner_id())
        assert lease.current_holder(store, "account:a") == holder
        assert lease.describe_holder(holder) == f"pid {child.pid} on {socket.gethostname()}"
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(30)


def test_a_holder_elsewhere_is_judged_by_expiry_alone(store: Engine) -> None:
    """Another host's pid means nothing here, whatever its start time says."""
    assert lease.acquire(store, "account:a", f"other-host:{os.getpid()}:1.00:cafe")
    assert not lease.acquire(store, "account:a", lease.new_owner_id())


def test_renew_takes_each_lease_as_acquire_would_in_one_statement(store: Engine) -> None:
    assert lease.acquire(store, "job:mine", "host:1:one")
    assert lease.acquire(store, "job:lapsed", "host:2:two", ttl=-1)
    assert lease.acquire(store, "job:theirs", "host:2:two")
    renewed = lease.renew(store, ["job:mine", "job:lapsed", "job:theirs", "job:new"],
                          "host:1:one", ttl=60)
    assert renewed == {"job:mine", "job:lapsed"}, "no row yet for job:new: acquire's to add"
    assert lease.current_holder(store, "job:lapsed") == "host:1:one"
    assert lease.current_holder(store, "job:theirs") == "host:2:two"
    assert lease.renew(store, [], "host:1:one", ttl=60) == set()
