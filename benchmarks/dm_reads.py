"""Where the X DM events a run read beyond the new ones came from, poll by poll.

`GET /2/dm_events` has no `since_id`: a poll pages from the newest event until it meets
one it already has, and X bills every event returned (once per UTC day). The freshness
benchmark gives this the pages the sandbox served (`Traffic.pages`) and the ids of the DM
events customers wrote during the run; every event returned is then one of: new (a live
event returned for the first time), or a re-read, put down to where it was read:

- `first poll`: the run's first poll, which meets the history the backfill stored;
- `quiet polls`: the first page of a poll that found nothing new (the known newest event);
- `polls with new`: the first page of a poll that found new events, past the new ones (the
  known event that ends the walk, and what the page size left to spare);
- `widening`: the later pages of a poll, after a page that came back all new.

A re-read is billed when the event had not been returned before on the same UTC day, by
the run or by what was read before it (`read_before`: the backfill's pages, served minutes
earlier): X bills a resource returned twice in one UTC day once (PLATFORMS.md, X docs:
pricing). Pages without a day (`served_on` None) count as one day.
A poll that ends on a known event must read at least that one, so the events returned per
new event cannot go below `floor`: 1 + those polls / new events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

CAUSES = ("first poll", "quiet polls", "polls with new", "widening")


class Page(Protocol):
    """A served page, as `socialdesk.sandbox.traffic.ServedPage` records it."""

    @property
    def max_results(self) -> int | None: ...
    @property
    def followed_token(self) -> bool: ...
    @property
    def ids(self) -> tuple[str, ...]: ...
    @property
    def served_on(self) -> date | None: ...


@dataclass
class DMReads:
    """A run's DM reads: counts of polls, requests and events, and the re-reads by cause."""

    polls: int = 0
    quiet_polls: int = 0
    ended_on_known: int = 0
    """Polls whose last page held an event the desk already had: each read at least one."""
    requests: int = 0
    returned: int = 0
    new: int = 0
    billed: int = 0
    """Events returned for the first time on their UTC day (new ones included)."""
    rereads: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CAUSES, 0))
    billed_rereads: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CAUSES, 0))
    first_sizes: list[int] = field(default_factory=list)
    """`max_results` of each poll's first request."""

    @property
    def floor(self) -> float:
        """The fewest events returned per new event these polls could have read."""
        return (self.new + self.ended_on_known) / max(self.new, 1)


def dm_reads(pages: Sequence[Page], live: Iterable[str],
             read_before: Iterable[Page] = ()) -> DMReads:
    """Classify every event of `pages` (served in order; a page without a token starts a
    poll) against `live`, the ids of the DM events written during the run; what
    `read_before` returned is already billed for its day."""
    live_ids, seen = set(live), set[str]()
    billed_on = {(event, page.served_on) for page in read_before for event in page.ids}
    reads = DMReads()
    for number, poll in enumerate(_polls(pages)):
        found_new = any(i in live_ids and i not in seen for p in poll for i in p.ids)
        reads.polls += 1
        reads.quiet_polls += not found_new
        reads.first_sizes.append(poll[0].max_results or 100)
        known_at_end = False
        for index, page in enumerate(poll):
            reads.requests += 1
            cause = _cause(number, index, found_new)
            for event in page.ids:
                reads.returned += 1
                first_time = event not in seen
                seen.add(event)
                billed = (event, page.served_on) not in billed_on
                billed_on.add((event, page.served_on))
                reads.billed += billed
                if first_time and event in live_ids:
                    reads.new += 1
                    continue
                reads.rereads[cause] += 1
                reads.billed_rereads[cause] += billed
                known_at_end = index == len(poll) - 1
        reads.ended_on_known += known_at_end
    return reads


def _polls(pages: Sequence[Page]) -> list[list[Page]]:
    polls: list[list[Page]] = []
    for page in pages:
        if page.followed_token and polls:
            polls[-1].append(page)
        else:
            polls.append([page])
    return polls


def _cause(poll_number: int, page_index: int, found_new: bool) -> str:
    if poll_number == 0:
        return "first poll"
    if page_index > 0:
        return "widening"
    return "polls with new" if found_new else "quiet polls"


def dm_lines(reads: DMReads, stored: int) -> list[str]:
    """Lines for the benchmark's report: the ratios, then the re-reads by cause."""
    per = max(stored, 1)
    lines = [f"  polls {reads.polls} ({reads.quiet_polls} found nothing new), requests "
             f"{reads.requests}, first-page sizes: "
             f"{_sizes(reads.first_sizes)}",
             f"  events returned {reads.returned} = new {reads.new} + re-read "
             f"{reads.returned - reads.new}; billed {reads.billed} "
             f"(re-read for the first time that UTC day {reads.billed - reads.new})"]
    for cause in CAUSES:
        lines.append(f"    re-read in {cause:15} {reads.rereads[cause]:4}  "
                     f"(billed {reads.billed_rereads[cause]})")
    lines.append(f"  per new DM stored ({stored}): raw {reads.returned / per:.2f}, billed "
                 f"{reads.billed / per:.2f}; the least these polls could read: "
                 f"{reads.floor:.2f} (1 + {reads.ended_on_known} polls that met a known "
                 f"event / {reads.new} new)")
    return lines


def _sizes(sizes: list[int]) -> str:
    counts: dict[int, int] = {}
    for size in sizes:
        counts[size] = counts.get(size, 0) + 1
    return ", ".join(f"{size}×{n}" for size, n in sorted(counts.items()))
