"""One line of `socialdesk doctor`: the checks the core runs and those a platform adds."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from connectors.base import AuthExpired, ConnectorError, RateLimited


class Mark(StrEnum):
    OK = "✓"
    WARNING = "!"
    FAILED = "✗"


@dataclass(frozen=True)
class Check:
    mark: Mark
    subject: str
    detail: str

    def line(self) -> str:
        return f"{self.mark.value} {self.subject}: {self.detail}"


def call_check(subject: str, call: Callable[[], Any]) -> Generator[Check, None, Any]:
    """Run one API check; yield a failure line and return None, or return its result."""
    try:
        result = call()
    except AuthExpired as error:
        yield Check(Mark.FAILED, subject, str(error))
        return None
    except RateLimited as error:
        yield Check(Mark.WARNING, subject, f"rate limited, could not check: {error}")
        return None
    except ConnectorError as error:
        yield Check(Mark.FAILED, subject, str(error))
        return None
    return True if result is None else result
