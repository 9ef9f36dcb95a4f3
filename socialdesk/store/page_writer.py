"""Stores a walk's pages in a thread of their own, in order, while the walk fetches the next.

A walk spent each page's time in turn: fetching it (a platform's round trip, 10-50 ms and
more), parsing it and finding its personal data, then storing it. The store mostly waits
(PostgreSQL's server works while the client waits; SQLite runs its statements without
the GIL), and so does the fetch. `PageWriter` stores each page handed to it in its own
thread, with its own Session, one transaction per page (the cursor in it, as before),
while the walking thread fetches, parses and scans the next one. The hand-off holds at
most `AHEAD` pages besides the one being stored: memory stays flat, and the walk is never
more than two pages ahead of what is stored.

The walking thread never uses a Session or connection while the writer works with its
own; the writer's is opened, used and closed in its thread (SQLite's engine allows a
connection to move between threads: `check_same_thread=False`, `socialdesk.store.db`).

Errors: the writer stops at its first error, and the walking thread raises that very
error at its next hand-off or at `finish`, having fetched at most one page more. When the
walk stops on an error of its own (a connector's, mid-walk), `finish` still stores every
page handed off before the error goes on, as when each page was stored before the next
was fetched. Leaving the `with` block always joins the thread.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.pool import SingletonThreadPool
from sqlmodel import Session

Page = TypeVar("Page")
Job = TypeVar("Job")
Report = TypeVar("Report")

AHEAD = 1
"""Pages waiting in the hand-off besides the one being stored."""


def store_pages(
    engine: Engine,
    pages: Iterable[Page],
    prepare: Callable[[Page], Job],
    store: Callable[[Session, Job], Report],
    stored: Callable[[list[tuple[Job, Report]]], None],
    go_on: Callable[[Page], bool] = lambda _page: True,
) -> None:
    """The walk: `prepare` each page in this thread and hand it to a `PageWriter` that
    `store`s it in its own; `stored` (here) gets the pages stored, in order, as they are;
    the walk stops after a page `go_on` refuses. On any error, the pages handed off are
    stored (and told) before it goes on, unless the writer's own error stopped it.

    An in-memory SQLite database has a connection per thread (`SingletonThreadPool`), so
    another thread would not see it: its pages are stored here, one after the other."""
    if isinstance(engine.pool, SingletonThreadPool):
        with Session(engine, expire_on_commit=False) as session:
            for page in pages:
                job = prepare(page)
                stored([(job, store(session, job))])
                if not go_on(page):
                    return
        return
    with PageWriter(engine, store) as writer:
        try:
            for page in pages:
                stored(writer.put(prepare(page)))
                if not go_on(page):
                    return
        finally:
            stored(writer.finish())


class PageWriter(Generic[Job, Report]):
    """`store(session, job)` for each job handed off, in order, in one thread of its own.

    `put` and `finish` return the jobs stored since the last call with what `store`
    returned, so the caller counts them, and calls its progress callbacks, in its own
    thread."""

    def __init__(self, engine: Engine, store: Callable[[Session, Job], Report],
                 ahead: int = AHEAD) -> None:
        self._engine = engine
        self._store = store
        self._ahead = ahead
        self._changed = threading.Condition()
        self._waiting: deque[Job] = deque()
        self._stored: list[tuple[Job, Report]] = []
        self._closed = False
        self._error: BaseException | None = None
        self._error_raised = False
        self._thread = threading.Thread(target=self._run, name="socialdesk-page-writer",
                                        daemon=True)

    def __enter__(self) -> PageWriter[Job, Report]:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._close_and_join()
        if self._error is not None and self._error is not error:
            self._raise_error()

    def put(self, job: Job) -> list[tuple[Job, Report]]:
        """Hand `job` to the writer, waiting while `ahead` jobs wait already; the jobs stored
        since the last call. Raises the writer's error, if it stopped on one."""
        with self._changed:
            while len(self._waiting) >= self._ahead and self._error is None:
                self._changed.wait()
            self._raise_error()
            self._waiting.append(job)
            self._changed.notify_all()
            return self._take_stored()

    def finish(self) -> list[tuple[Job, Report]]:
        """Store every job handed off and stop the thread; the jobs stored since the last
        call. Raises the writer's error, if it stopped on one."""
        self._close_and_join()
        with self._changed:
            self._raise_error()
            return self._take_stored()

    def _close_and_join(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def _raise_error(self) -> None:
        if self._error is not None and not self._error_raised:
            self._error_raised = True
            raise self._error

    def _take_stored(self) -> list[tuple[Job, Report]]:
        stored, self._stored = self._stored, []
        return stored

    def _run(self) -> None:
        try:
            with Session(self._engine, expire_on_commit=False) as session:
                while (job := self._next_job()) is not None:
                    report = self._store(session, job[0])
                    with self._changed:
                        self._stored.append((job[0], report))
        except BaseException as error:  # noqa: BLE001  (raised again in the walking thread)
            with self._changed:
                self._error = error
                self._changed.notify_all()

    def _next_job(self) -> tuple[Job] | None:
        """The oldest job waiting (in a tuple: a job may be any value), or None once the
        walk has finished and nothing waits."""
        with self._changed:
            while not self._waiting and not self._closed:
                self._changed.wait()
            if not self._waiting:
                return None
            job = self._waiting.popleft()
            self._changed.notify_all()
            return (job,)
