"""A page's personal data found before it is stored, so the detector runs beside the store.

Ingest asks its finder for a message's spans given the brand's previous message in the
thread (`FindSpans`' context), which only the store knows: the thread's conversation and
its stored messages come from the database, in the page's transaction. Most messages'
spans do not depend on it: the detector reads a context only when it asks for a code
("what is your order number?", `Detector.reads_context`). So the walking thread finds each
item's spans without a context (`PageScanner.prescan`) while the writer stores the page
before (`socialdesk.store.page_writer`), and ingest's finder for the page
(`PrescannedPage.find_spans`) answers from them, running the detector itself only for a
reply to such a question: the spans stored are those ingest would have found alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from connectors.base import PullPage
from socialdesk.store.ingest import FindSpans, Span

ReadsContext = Callable[[str | None], bool]
"""Whether the finder may give a text other spans with this context than without one."""


@dataclass(frozen=True)
class PageScanner:
    """The pass's finder, and what tells when its context-free answer stands."""

    find_spans: FindSpans
    reads_context: ReadsContext

    def prescan(self, page: PullPage) -> PrescannedPage:
        """Each distinct text of the page scanned once, without a context. Items the store
        will find already stored are scanned too: which they are is the store's to know."""
        spans: dict[str, list[Span]] = {}
        for item in page.items:
            if item.text and item.text not in spans:
                spans[item.text] = self.find_spans(item.text, None)
        return PrescannedPage(page, self, spans)


@dataclass(frozen=True)
class PrescannedPage:
    """A page and its context-free spans, handed from the walk to the writer."""

    page: PullPage
    scanner: PageScanner
    spans: dict[str, list[Span]] = field(repr=False)

    def find_spans(self, text: str, context: str | None) -> list[Span]:
        """Ingest's finder for this page (`FindSpans`)."""
        if not self.scanner.reads_context(context):
            found = self.spans.get(text)
            if found is not None:
                return found
        return self.scanner.find_spans(text, context)
