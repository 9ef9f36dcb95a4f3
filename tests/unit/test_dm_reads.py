"""The freshness benchmark's account of X DM reads (`benchmarks/dm_reads.py`): every event
returned is new or a re-read put down to its cause, and a re-read is billed only the first
time the run returns it, as X bills a resource once per UTC day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from benchmarks.dm_reads import CAUSES, dm_reads
from socialdesk.sandbox.traffic import ServedPage, Traffic
from socialdesk.sandbox.wire import Request, Response


def page(size: int, *ids: str, token: bool = False) -> ServedPage:
    return ServedPage(size, token, ids)


def test_each_event_returned_is_new_or_a_reread_by_cause() -> None:
    served = [
        page(1, "h9"),                         # first poll: the newest history event
        page(1, "h9"),                         # quiet
        page(2, "n2", "n1"),                   # a burst fills the first page...
        page(2, "n0", "h9", token=True),       # ...widening meets the known one
        page(3, "n3", "n2", "n1"),             # one new; two known past it
        page(1, "n3"),                         # quiet
    ]
    reads = dm_reads(served, live={"n0", "n1", "n2", "n3"})
    assert (reads.polls, reads.quiet_polls, reads.requests) == (5, 3, 6), "the first poll too"
    assert (reads.returned, reads.new, reads.billed) == (10, 4, 5)
    assert reads.rereads == {"first poll": 1, "quiet polls": 2, "polls with new": 2,
                             "widening": 1}
    assert reads.billed_rereads == {"first poll": 1, "quiet polls": 0,
                                    "polls with new": 0, "widening": 0}
    assert reads.ended_on_known == 5
    assert reads.floor == (4 + 5) / 4
    assert reads.first_sizes == [1, 1, 2, 3, 1]


def test_a_history_event_read_for_the_first_time_past_the_known_one_is_billed() -> None:
    reads = dm_reads([page(1, "h9"), page(4, "n1", "h9", "h8", "h7")], live={"n1"})
    assert reads.billed_rereads["polls with new"] == 2, "h8 and h7 were never read before"
    assert reads.billed == 4


def on(day: int, size: int, *ids: str, token: bool = False) -> ServedPage:
    return ServedPage(size, token, ids, date(2026, 3, day))


def test_an_event_the_backfill_returned_that_utc_day_is_not_billed_again() -> None:
    backfill = [on(5, 100, "h9", "h8", "h7")]
    reads = dm_reads([on(5, 1, "h9"), on(5, 2, "n1", "h9")], live={"n1"}, read_before=backfill)
    assert reads.rereads["first poll"] == 1
    assert reads.billed_rereads == dict.fromkeys(CAUSES, 0)
    assert reads.billed == 1, "only the new event"


def test_an_event_returned_again_on_a_later_utc_day_is_billed_again() -> None:
    backfill = [on(5, 100, "h9", "h8")]
    reads = dm_reads([on(6, 1, "h9"), on(6, 1, "h9"), on(7, 1, "h9")], live=set(),
                     read_before=backfill)
    assert reads.billed_rereads["first poll"] == 1, "h9 on the 6th, once"
    assert reads.billed_rereads["quiet polls"] == 1, "h9 again on the 7th"
    assert reads.billed == 2


def test_the_sandbox_records_the_utc_day_each_dm_page_was_served() -> None:
    now = [datetime(2026, 3, 5, 23, 59, 30, tzinfo=UTC)]
    traffic = Traffic(lambda: now[0])
    request = Request("GET", "/2/dm_events", {"max_results": "1"}, {}, b"")
    traffic.record(request, Response(200, {"data": [{"id": "h9"}]}))
    now[0] += timedelta(minutes=1)
    traffic.record(request, Response(200, {"data": [{"id": "h9"}]}))
    assert [p.served_on for p in traffic.pages("x.dm_events")] == [date(2026, 3, 5),
                                                                    date(2026, 3, 6)]
