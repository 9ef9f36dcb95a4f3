"""The freshness benchmark's account of X DM reads (`benchmarks/dm_reads.py`): every event
returned is new or a re-read put down to its cause, and a re-read is billed only the first
time the run returns it, as X bills a resource once per UTC day."""

from __future__ import annotations

from benchmarks.dm_reads import dm_reads
from socialdesk.sandbox.traffic import ServedPage


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
