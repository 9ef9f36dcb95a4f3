"""`socialdesk sync`'s progress bars and log lines share the terminal without tearing it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from socialdesk.logs import configure_logging
from socialdesk.progress import SyncProgress


class Terminal(io.StringIO):
    """stderr as a terminal, so the bars are drawn."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def root_handlers() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_log_line_during_a_sync_goes_through_the_bars_console_not_straight_to_stderr(
    root_handlers: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(logging.INFO)
    terminal = Terminal()
    with SyncProgress(terminal) as progress:
        assert progress.enabled
        progress.page("brand-x", "mentions", 5)
        logging.getLogger("connectors.x").warning(
            "account brand-x: mentions may be lost (access_token=s3cr3t)")
    drawn = terminal.getvalue()
    assert "WARNING connectors.x: account brand-x: mentions may be lost" in drawn
    assert "access_token=***" in drawn and "s3cr3t" not in drawn
    assert "mentions may be lost" not in capsys.readouterr().err
    logging.getLogger("connectors.x").warning("after the bars")
    assert "after the bars" in capsys.readouterr().err
    assert "after the bars" not in terminal.getvalue()


def test_without_a_terminal_there_are_no_bars_and_logging_is_left_alone(
    root_handlers: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(logging.INFO)
    piped = io.StringIO()
    with SyncProgress(piped) as progress:
        assert not progress.enabled
        logging.getLogger("connectors.x").warning("to cron's mail")
    assert piped.getvalue() == ""
    assert "to cron's mail" in capsys.readouterr().err
