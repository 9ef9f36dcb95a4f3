"""What both platform emulators share: the data, the rate budgets, the faults and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from socialdesk.sandbox.faults import FaultBook
from socialdesk.sandbox.limits import RateLimiter
from socialdesk.sandbox.state import Store


@dataclass(frozen=True)
class Backend:
    store: Store
    limiter: RateLimiter
    faults: FaultBook
    clock: Callable[[], datetime]
    base_url: Callable[[], str]
    """The server's own URL, known only once it listens: paging links name it."""
    timeout_seconds: float
    """How long a `timeout` fault holds a connection before closing it unanswered."""


class Emulator:
    """Base of the X and Graph emulators: each reads what it needs from the backend."""

    def __init__(self, backend: Backend) -> None:
        self.store, self.limiter, self.faults = backend.store, backend.limiter, backend.faults
        self.clock, self.base_url = backend.clock, backend.base_url
        self.timeout_seconds = backend.timeout_seconds
