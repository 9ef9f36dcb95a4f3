"""A walk stores each page in the writer's thread while it fetches the next
(`socialdesk.store.page_writer`): in order, each page with its cursor; the writer's error
stops the walk and is the error the walk raises; a connector's error mid-walk still leaves
every fetched page stored; no writer thread outlives its walk. Overlap is shown with
events, never with timings: the store of page 1 waits until page 2 is being fetched."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from connectors.base import (
    AccountSettings,
    AuthExpired,
    Channel,
    Connector,
    Direction,
    InboundItem,
    PullPage,
    RateLimited,
    RetriableAPIError,
    WalkIncomplete,
)
from socialdesk import sync
from socialdesk.config import Settings, settings_from_mapping
from socialdesk.errors import AccountSyncError
from socialdesk.sandbox import sandbox_config_text
from socialdesk.service.hours import hours_for
from socialdesk.store import lease
from socialdesk.store.db import open_store
from socialdesk.store.ingest import IngestReport, ensure_account, ingest_page
from socialdesk.store.models import Message, SyncCursor
from socialdesk.store.page_spans import PageScanner
from socialdesk.store.page_writer import PageWriter
from socialdesk.sync import StreamResult, SyncContext, _DueRules, _sync_stream, detector_for

NOW = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
PER_PAGE = 3
WAIT = 30.0
"""Seconds an event is waited for before the test fails instead of hanging: a bound, not
a timing (each wait is released by the other thread's step, never by the clock)."""
QUESTION = "Ciao! Qual è il tuo numero d'ordine, per favore?"
ANSWER = "è 112-4563"


def dm(external_id: str, text: str, minute: int,
       direction: Direction = Direction.INBOUND) -> InboundItem:
    return InboundItem(platform="x", external_id=external_id, channel=Channel.DM,
                       direction=direction, thread_key="1-2", text=text,
                       created_at=NOW - timedelta(days=1) + timedelta(minutes=minute),
                       author_id="1" if direction is Direction.OUTBOUND else "2")


def page(number: int) -> PullPage:
    """Page `number` of a walk going forward in time: its items are newer than the last's."""
    return PullPage(stream="dms", cursor=f"cursor-{number}", items=[
        dm(f"dm-{number}-{k}", f"page {number} item {k}", number * PER_PAGE + k)
        for k in range(PER_PAGE)])


class ScriptedConnector(Connector):
    """Pulls whatever its script yields (and raises)."""

    platform = "x"
    streams = ("dms",)

    def __init__(self, account: AccountSettings,
                 script: Callable[[], Iterator[PullPage]] = lambda: iter(())) -> None:
        self.account = account
        self.script = script

    def pull(self, stream: str, cursor: str | None) -> Iterator[PullPage]:  # noqa: ARG002
        return self.script()


def settings() -> Settings:
    return settings_from_mapping(
        tomllib.loads(sandbox_config_text("http://127.0.0.1:9", "sqlite://")), source="test")


def walk(store: Engine, script: Callable[[], Iterator[PullPage]],
         on_page: sync.PageCallback | None = None) -> StreamResult:
    config = settings()
    account_config = config.account("sandbox-x")
    account = ensure_account(store, account_config.name, account_config.platform, now=NOW)
    connector = ScriptedConnector(AccountSettings(account_config.name, "x", None, {}), script)
    context = SyncContext(config, store, detector_for(config), lambda: NOW, on_page=on_page)
    rules = _DueRules(hours_for(config.hours, account_config),
                      config.sla.first_response_minutes)
    return _sync_stream(context, account, connector, "dms", "account:sandbox-x", rules)


def stored_ids(store: Engine) -> list[str]:
    with Session(store) as session:
        return list(session.exec(select(Message.external_id).order_by(col(Message.id))).all())


def stored_cursor(store: Engine) -> SyncCursor:
    with Session(store) as session:
        return session.exec(select(SyncCursor)).one()


def ids_of(*numbers: int) -> list[str]:
    return [item.external_id for number in numbers for item in page(number).items]


def writer_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "socialdesk-page-writer"]


def test_every_page_is_stored_in_order_with_its_cursor_and_told_in_the_walks_thread(
    store: Engine,
) -> None:
    told: list[tuple[str, str, int, int]] = []

    def on_page(account: str, stream: str, items: int) -> None:
        told.append((account, stream, items, threading.get_ident()))

    result = walk(store, lambda: (page(n) for n in range(1, 6)), on_page)

    assert result.error is None and result.pages == 5 and result.new_messages == 15
    assert stored_ids(store) == ids_of(1, 2, 3, 4, 5)
    assert stored_cursor(store).cursor == "cursor-5"
    assert told == [("sandbox-x", "dms", PER_PAGE, threading.get_ident())] * 5
    assert writer_threads() == []


def test_the_store_of_a_page_overlaps_the_fetch_of_the_next(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetching_two = threading.Event()
    seen_while_storing_one: list[bool] = []

    def script() -> Iterator[PullPage]:
        yield page(1)
        fetching_two.set()
        yield page(2)

    def ingest_waiting_for_the_fetch(session: Session, account: object, pulled: PullPage,
                                     **options: object) -> IngestReport:
        if pulled.cursor == "cursor-1":
            seen_while_storing_one.append(fetching_two.wait(WAIT))
        return ingest_page(session, account, pulled, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(sync, "ingest_page", ingest_waiting_for_the_fetch)
    result = walk(store, script)

    assert seen_while_storing_one == [True], "page 2 was fetched only after page 1 was stored"
    assert result.pages == 2 and stored_ids(store) == ids_of(1, 2)


@pytest.mark.parametrize("error", [
    RetriableAPIError("HTTP 503 after 3 tries"),
    RateLimited("429", NOW + timedelta(minutes=15)),
    AuthExpired("token revoked"),
    WalkIncomplete("stopped after 2 pages; the next pass goes on"),
], ids=lambda error: type(error).__name__)
def test_a_connector_error_mid_walk_still_stores_every_fetched_page(
    store: Engine, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """Page 1's store waits until the connector raises, so page 2 is still waiting in the
    hand-off when the walk stops: it must be stored, with its cursor, before the stream
    records the error."""
    raised = threading.Event()

    def script() -> Iterator[PullPage]:
        yield page(1)
        yield page(2)
        raised.set()
        raise error

    def ingest_after_the_error(session: Session, account: object, pulled: PullPage,
                               **options: object) -> IngestReport:
        assert raised.wait(WAIT)
        return ingest_page(session, account, pulled, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(sync, "ingest_page", ingest_after_the_error)
    result = walk(store, script)

    assert stored_ids(store) == ids_of(1, 2)
    assert result.pages == 2 and result.new_messages == 2 * PER_PAGE
    state = stored_cursor(store)
    assert state.cursor == "cursor-2"
    if isinstance(error, WalkIncomplete):
        assert result.deferred == str(error) and state.last_error is None
    else:
        assert result.error is not None and state.last_error == result.error
    assert writer_threads() == []


def test_a_lost_lease_stops_the_walk_with_the_error_it_raised_before(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[int] = []
    checks: list[bool] = []
    held = lease.acquire

    def script() -> Iterator[PullPage]:
        for number in range(1, 50):  # a walk that would go on for long
            fetched.append(number)
            yield page(number)

    def acquire_once(engine: Engine, name: str, owner: str) -> bool:
        checks.append(not checks and held(engine, name, owner))
        return checks[-1]

    monkeypatch.setattr(lease, "acquire", acquire_once)
    with pytest.raises(AccountSyncError, match="lost the sync lease"):
        walk(store, script)

    assert stored_ids(store) == ids_of(1)
    assert stored_cursor(store).cursor == "cursor-1"
    # page 2 failed in the writer; the walk may have fetched page 3 (handed off) and page 4
    # (waiting for room) meanwhile, no more
    assert len(fetched) <= 4
    assert writer_threads() == []


class StoreBroke(Exception):
    """Stands for any error of the store (a database's), raised in the writer's thread."""


def test_a_store_error_is_raised_by_the_walk_as_it_was(
    store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    broke = StoreBroke("disk I/O error")

    def ingest_failing_on_page_two(session: Session, account: object, pulled: PullPage,
                                   **options: object) -> IngestReport:
        if pulled.cursor == "cursor-2":
            raise broke
        return ingest_page(session, account, pulled, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(sync, "ingest_page", ingest_failing_on_page_two)
    with pytest.raises(StoreBroke) as raised:
        walk(store, lambda: (page(n) for n in range(1, 50)))

    assert raised.value is broke
    assert stored_ids(store) == ids_of(1)
    assert writer_threads() == []


def test_the_writer_thread_is_joined_when_the_walks_own_callback_raises(store: Engine) -> None:
    class Stop(Exception):
        pass

    def stop_at_once(account: str, stream: str, items: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        walk(store, lambda: (page(n) for n in range(1, 50)), stop_at_once)
    assert writer_threads() == []
    assert stored_ids(store)[:PER_PAGE] == ids_of(1)


@pytest.mark.parametrize("same_page", [True, False], ids=["same page", "later page"])
def test_an_answer_to_the_brands_question_is_found_with_its_context(
    store: Engine, same_page: bool
) -> None:
    """The walking thread scans without the thread's context; the answer, whose context
    asks for a code, is scanned again with it in the writer, as ingest did alone."""
    question = dm("q", QUESTION, 0, Direction.OUTBOUND)
    answer = dm("a", ANSWER, 1)
    pages = ([PullPage("dms", [question, answer], cursor="c")] if same_page
             else [PullPage("dms", [question], cursor="c1"),
                   PullPage("dms", [answer], cursor="c2")])
    walk(store, lambda: iter(pages))
    with Session(store) as session:
        assert session.exec(select(Message.pii_types)
                            .where(Message.external_id == "a")).one() == "REFERENCE"


def test_prescanned_spans_are_the_finders_and_found_once_a_text() -> None:
    detector = detector_for(settings())
    find = sync.spans_finder(detector)
    calls: list[tuple[str, str | None]] = []

    def counted(text: str, context: str | None) -> list[tuple[int, int, str]]:
        calls.append((text, context))
        return find(text, context)

    texts = ["chiamami al 347 123 4567", "mario.rossi@example.com", ANSWER, "ciao", ANSWER]
    scanned = PageScanner(counted, detector.reads_context).prescan(
        PullPage("dms", [dm(f"m{n}", text, n) for n, text in enumerate(texts)]))
    assert calls == [(text, None) for text in dict.fromkeys(texts)]

    calls.clear()
    for context in (None, "Ciao, come va?"):
        for text in texts:
            assert scanned.find_spans(text, context) == find(text, context)
    assert calls == [], "a context that asks for nothing needs no second scan"
    assert scanned.find_spans(ANSWER, QUESTION) == find(ANSWER, QUESTION) != find(ANSWER, None)
    assert calls == [(ANSWER, QUESTION)]


def test_the_writer_stores_in_the_order_handed_off_in_one_thread_of_its_own(
    store: Engine,
) -> None:
    threads: set[int] = set()

    def store_one(session: Session, job: int) -> int:
        threads.add(threading.get_ident())
        return job * 10

    with PageWriter(store, store_one) as writer:
        stored = [pair for job in range(20) for pair in writer.put(job)]
        stored += writer.finish()
    assert stored == [(job, job * 10) for job in range(20)]
    assert len(threads) == 1 and threading.get_ident() not in threads
    assert writer_threads() == []


def test_an_in_memory_database_is_stored_in_the_walks_own_thread() -> None:
    """`sqlite://` gives each thread a database of its own: a writer thread would store
    the pages where nobody reads them (or fail on tables it lacks)."""
    memory = open_store("sqlite://")
    try:
        result = walk(memory, lambda: (page(n) for n in range(1, 4)))
        assert result.error is None and result.pages == 3
        assert stored_ids(memory) == ids_of(1, 2, 3)
        assert stored_cursor(memory).cursor == "cursor-3"
    finally:
        memory.dispose()
