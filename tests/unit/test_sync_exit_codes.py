"""`socialdesk sync`'s exit code and account lines: deferred (75) is not failed (1)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from socialdesk.commands.sync_once import (
    EXIT_DEFERRED,
    EXIT_FAILED,
    EXIT_SYNCED,
    account_line,
    report_sync_results,
    sync_exit_code,
)
from socialdesk.sync import AccountResult, StreamResult

NOW = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
ROME = ZoneInfo("Europe/Rome")
"""The desk's zone: every time a line shows is on its clock, named (UTC+1 in March)."""


def limited(stream: str, minutes: int = 15) -> StreamResult:
    """A stream stopped by a 429, as `_sync_stream` reports it."""
    until = NOW + timedelta(minutes=minutes)
    return StreamResult(stream, new_messages=3, rate_limited_until=until,
                        error=f"rate limited until {until:%Y-%m-%d %H:%M:%S} UTC")


def test_every_account_pulled_to_its_end_is_0() -> None:
    results = [AccountResult("x", [StreamResult("mentions", new_messages=2)])]
    assert sync_exit_code(results) == EXIT_SYNCED == 0


def test_a_rate_limited_stream_is_deferred_and_says_when_it_resumes() -> None:
    result = AccountResult("brand-x", [StreamResult("mentions", 1), limited("dms")])
    out = io.StringIO()
    assert report_sync_results([result], out, NOW, ROME) == EXIT_DEFERRED == 75
    assert out.getvalue() == ("brand-x: mentions +1, dms +3 (deferred: rate limited; "
                              "resumes at 11:15:00 CET)\n")


def test_a_page_cap_is_deferred_to_the_next_sync() -> None:
    capped = StreamResult("dms", new_messages=1000, deferred="stopped at the page cap")
    result = AccountResult("brand-x", [capped])
    assert sync_exit_code([result]) == EXIT_DEFERRED
    assert account_line(result, NOW, ROME) == (
        "dms +1000 (deferred: stopped at the page cap; resumes on the next sync)")


def test_a_stream_still_waiting_for_its_reset_is_deferred() -> None:
    until = NOW + timedelta(days=1, minutes=5)
    waiting = StreamResult("dms", skipped_until=until, rate_limited_until=until)
    result = AccountResult("brand-x", [waiting])
    assert sync_exit_code([result]) == EXIT_DEFERRED
    assert account_line(result, NOW, ROME) == (
        "dms +0 (deferred: rate limited, skipped; resumes at 2031-03-05 11:05:00 CET)")


def test_an_account_held_by_another_process_is_deferred_not_silent() -> None:
    held = AccountResult("brand-fb", skipped="another socialdesk process (pid 7 on h) is "
                         "syncing this account")
    assert sync_exit_code([AccountResult("x"), held]) == EXIT_DEFERRED
    assert account_line(held, NOW, ROME).startswith("deferred: another socialdesk process (pid 7")


def test_a_failure_wins_over_a_deferral_and_both_are_said() -> None:
    broken = StreamResult("mentions", error="the token expired")
    result = AccountResult("brand-x", [broken, limited("dms")])
    assert sync_exit_code([result]) == EXIT_FAILED == 1
    assert account_line(result, NOW, ROME) == (
        "failed: mentions: the token expired; dms +3 (deferred: rate limited; "
        "resumes at 11:15:00 CET)")


def test_an_account_error_fails_the_pass_even_when_another_account_waits() -> None:
    waiting = AccountResult("a", [limited("dms")])
    assert sync_exit_code([waiting, AccountResult("b", error="lost the sync lease")]) == 1


def test_quiet_prints_only_the_accounts_that_failed_for_cron_mail() -> None:
    """`sync --quiet` in a crontab: cron mails any output, so a pass that only synced or
    waited for a rate limit prints nothing, and a failure still reaches the mailbox."""
    synced = AccountResult("brand-fb", [StreamResult("feed", new_messages=0)])
    waiting = AccountResult("brand-x", [limited("dms")])
    out = io.StringIO()
    assert report_sync_results([synced, waiting], out, NOW, ROME, quiet=True) == 75
    assert out.getvalue() == ""
    broken = AccountResult("brand-x", [StreamResult("mentions", error="the token expired")])
    assert report_sync_results([synced, broken], out, NOW, ROME, quiet=True) == 1
    assert out.getvalue() == "brand-x: failed: mentions: the token expired\n"
