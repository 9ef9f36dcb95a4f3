"""Synthetic X mention pages for benchmarks/ingest.py, and the raw baselines it compares with.

The pages are what X sends (`data` plus `includes.users`), so the benchmark parses them as
the connector does. The raw baselines insert the same messages with no socialdesk code at
all: the ceiling, not a competitor.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday morning
BRAND_ID = "1000"
CUSTOMERS = 20_000

PLAIN = [
    "@brand il mio ordine non è ancora arrivato, potete controllare? Sono giorni che aspetto",
    "@brand the app crashes every time I open the settings page since yesterday's update",
    "@brand grazie mille, tutto risolto! Servizio clienti gentilissimo come sempre",
    "@brand why was I charged twice this month? nobody answers my messages, really annoyed",
    "@brand a che ora apre il negozio di via Roma domenica? Sul sito non c'è scritto",
    "@brand can you tell me when the new collection arrives in the Milan store, please?",
    "@brand la consegna è stata lasciata al vicino senza avvisare, non è accettabile",
    "@brand still waiting for the refund you promised last week, what is going on?",
]
PERSONAL = [
    "@brand scrivetemi pure a {user}.rossi@example.com per il rimborso, grazie",
    "@brand my number is +39 347 {digits} please call me back this afternoon",
]
"""One message in five carries personal data or digits, as public support posts do
(PLATFORMS.md: about one in five public posts)."""


def text_of(number: int) -> str:
    if number % 5 == 4:
        template = PERSONAL[(number // 5) % len(PERSONAL)]
        return template.format(user=f"mario{number % 997}",
                               digits=f"{1_000_000 + number % 8_999_999}")
    return PLAIN[number % len(PLAIN)]


def tweet(number: int) -> dict[str, Any]:
    """Mention `number`: threads of five, each reply answering the one before it."""
    tweet_id = str(10**17 + number)
    root = str(10**17 + number - number % 5)
    body: dict[str, Any] = {
        "id": tweet_id, "text": text_of(number), "author_id": str(number % CUSTOMERS),
        "conversation_id": root, "edit_history_tweet_ids": [tweet_id],
        "created_at": (T0 + timedelta(seconds=number)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    if tweet_id != root:
        body["referenced_tweets"] = [{"type": "replied_to", "id": str(int(tweet_id) - 1)}]
    return body


def page_bodies(count: int, page_size: int) -> Iterator[dict[str, Any]]:
    """X's response bodies, `page_size` mentions each, authors in `includes.users`."""
    for start in range(0, count, page_size):
        tweets = [tweet(number) for number in range(start, min(count, start + page_size))]
        users = {t["author_id"]: {"id": t["author_id"], "username": f"customer{t['author_id']}",
                                  "name": f"Customer {t['author_id']}"} for t in tweets}
        yield {"data": tweets, "includes": {"users": list(users.values())}}


# -- raw baselines ----------------------------------------------------------------------

MESSAGE_COLUMNS = ("account_id", "conversation_id", "platform", "external_id",
                   "parent_external_id", "channel", "visibility", "direction",
                   "author_external_id", "author_handle", "author_name", "text", "created_at",
                   "ingested_at", "has_pii", "raw")


def message_rows(
    count: int, conversation_of: dict[str, int], *, sqlite_times: bool
) -> list[tuple[Any, ...]]:
    """The messages ingest stores, as plain tuples for `MESSAGE_COLUMNS`."""
    now = datetime.now(UTC)
    rows = []
    for number in range(count):
        body = tweet(number)
        created = T0 + timedelta(seconds=number)
        parent = body.get("referenced_tweets", [{}])[0].get("id")
        rows.append((1, conversation_of[body["conversation_id"]], "x", body["id"], parent,
                     "mention", "public", "inbound", body["author_id"],
                     f"customer{body['author_id']}", f"Customer {body['author_id']}",
                     body["text"], _time(created, sqlite_times), _time(now, sqlite_times),
                     False, json.dumps(body)))
    return rows


def _time(value: datetime, as_text: bool) -> Any:
    return value.replace(tzinfo=None).isoformat(" ", "microseconds") if as_text else value


def thread_roots(count: int) -> list[str]:
    return [str(10**17 + number) for number in range(0, count, 5)]


class SqliteRaw:
    """Raw sqlite3 into the store's own `message` table (its indexes and full-text
    trigger), a transaction per page as ingest, by `executemany` and by one multi-row
    INSERT, each in a database of its own; page by page, so `benchmarks/ingest.py` can
    time each page right after the full path stored it, under the same load."""

    VARIANTS = ("executemany", "multi-row")

    def __init__(self, database: Path, count: int) -> None:
        from socialdesk.store.db import open_store

        self.connections = {}
        for variant in self.VARIANTS:
            path = database.with_name(f"raw-{variant}.db")
            open_store(f"sqlite:///{path}").dispose()
            connection = sqlite3.connect(path)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                connection.execute(f"PRAGMA {pragma}")
            conversation_of = _sqlite_conversations(connection, count)
            self.connections[variant] = connection
        self.rows = message_rows(count, conversation_of, sqlite_times=True)
        self.seconds = dict.fromkeys(self.VARIANTS, 0.0)
        self.cpu = dict.fromkeys(self.VARIANTS, 0.0)
        self._columns = ", ".join(MESSAGE_COLUMNS)
        self._one = "(" + ", ".join("?" * len(MESSAGE_COLUMNS)) + ")"

    def insert(self, start: int, stop: int) -> None:
        """Insert rows `start:stop` (a page) in each variant, timed."""
        page = self.rows[start:stop]
        for variant, connection in self.connections.items():
            started, cpu = time.perf_counter(), time.process_time()
            with connection:
                if variant == "executemany":
                    connection.executemany(
                        f"INSERT INTO message ({self._columns}) VALUES {self._one}", page)
                else:
                    connection.execute(
                        f"INSERT INTO message ({self._columns}) "
                        f"VALUES {', '.join([self._one] * len(page))}",
                        [value for row in page for value in row])
            self.seconds[variant] += time.perf_counter() - started
            self.cpu[variant] += time.process_time() - cpu

    def rates(self, database: Path) -> dict[str, tuple[float, float]]:
        """Rows/s (wall clock, and per second of this process's CPU) of each variant; and
        `executemany` into a plain table with a unique key, in one transaction, now."""
        count = len(self.rows)
        rates = {variant: (count / self.seconds[variant], count / self.cpu[variant])
                 for variant in self.VARIANTS}
        for connection in self.connections.values():
            connection.close()
        rates["plain table"] = _sqlite_plain_rate(database.with_name("plain.db"), count)
        return rates


def _sqlite_conversations(connection: sqlite3.Connection, count: int) -> dict[str, int]:
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    with connection:
        connection.execute("INSERT INTO account (id, name, platform, created_at, health) "
                           "VALUES (1, 'bench', 'x', ?, 'ok')", (now,))
        connection.executemany(
            "INSERT INTO conversation (account_id, channel, visibility, thread_key, status, "
            "created_at, updated_at) VALUES (1, 'mention', 'public', ?, 'new', ?, ?)",
            [(root, now, now) for root in thread_roots(count)])
    return dict(connection.execute("SELECT thread_key, id FROM conversation").fetchall())


def _sqlite_plain_rate(path: Path, count: int) -> tuple[float, float]:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE plain (id INTEGER PRIMARY KEY, platform TEXT, "
                       "external_id TEXT, text TEXT, created_at TEXT, raw TEXT, "
                       "UNIQUE (platform, external_id))")
    rows = [(row[2], row[3], row[11], row[12], row[15])
            for row in message_rows(count, _AnyConversation(), sqlite_times=True)]
    started, cpu = time.perf_counter(), time.process_time()
    with connection:
        connection.executemany("INSERT INTO plain (platform, external_id, text, created_at, raw) "
                               "VALUES (?, ?, ?, ?, ?)", rows)
    rate = (count / (time.perf_counter() - started), count / (time.process_time() - cpu))
    connection.close()
    return rate


class _AnyConversation(dict[str, int]):
    def __missing__(self, key: str) -> int:
        return 0


class PostgresRaw:
    """COPY of the same messages into the store's own `message` table (its indexes, the
    search's GIN index included), page by page, so `benchmarks/ingest.py` can time each
    page right after the full path stored it (wall clock only: the work is the server's).
    Two databases: one commits a block of pages at once (`commit`), the other each page,
    as ingest does."""

    def __init__(self, urls: tuple[str, str], count: int) -> None:
        import psycopg

        from socialdesk.store.db import open_store

        self.connections = []
        for url in urls:
            open_store(url).dispose()
            connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
            conversation_of = _postgres_conversations(connection, count)
            self.connections.append(connection)
        self.rows = message_rows(count, conversation_of, sqlite_times=False)

    def copy(self, start: int, stop: int) -> tuple[float, float, float]:
        """Seconds to COPY rows `start:stop` uncommitted, the CPU seconds it took (this
        process's and its server process's), and seconds to COPY and commit them."""
        whole, paged = self.connections
        rows = self.rows[start:stop]
        server = ServerCpu(whole)
        before, cpu = server.read(), time.process_time()
        seconds = self._copy(whole, rows, commit=False)
        spent = time.process_time() - cpu + server.spent(before)
        return seconds, spent, self._copy(paged, rows, commit=True)

    def commit(self) -> float:
        """Seconds to commit what `copy` left uncommitted."""
        started = time.perf_counter()
        self.connections[0].commit()
        return time.perf_counter() - started

    @staticmethod
    def _copy(connection: Any, rows: list[tuple[Any, ...]], *, commit: bool) -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(
            f"COPY message ({', '.join(MESSAGE_COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        if commit:
            connection.commit()
        return time.perf_counter() - started

    def copy_rate(self) -> float:
        """Rows/s of all the rows in one COPY and one transaction, into the emptied table
        (the baseline as issue 16 measured it)."""
        connection = self.connections[0]
        connection.execute("TRUNCATE message CASCADE")  # the tables referring to it are empty
        connection.commit()
        seconds = self._copy(connection, self.rows, commit=True)
        return len(self.rows) / seconds

    def plain_rate(self) -> float:
        """Rows/s by `executemany` into a plain table with a unique key."""
        connection = self.connections[0]
        connection.execute("CREATE TABLE plain (id bigserial PRIMARY KEY, platform text, "
                           "external_id text, text text, created_at timestamptz, raw json, "
                           "UNIQUE (platform, external_id))")
        plain = [(row[2], row[3], row[11], row[12], row[15]) for row in self.rows]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO plain (platform, external_id, text, created_at, "
                               "raw) VALUES (%s, %s, %s, %s, %s)", plain)
        connection.commit()
        return len(plain) / (time.perf_counter() - started)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()


def _postgres_conversations(connection: Any, count: int) -> dict[str, int]:
    now = datetime.now(UTC)
    connection.execute("INSERT INTO account (id, name, platform, created_at, health) "
                       "VALUES (1, 'bench', 'x', %s, 'ok')", (now,))
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO conversation (account_id, channel, visibility, thread_key, status, "
            "created_at, updated_at) VALUES (1, 'mention', 'public', %s, 'new', %s, %s)",
            [(root, now, now) for root in thread_roots(count)])
    conversation_of = dict(connection.execute("SELECT thread_key, id FROM conversation").fetchall())
    connection.commit()
    return conversation_of


class ServerCpu:
    """CPU seconds spent by the PostgreSQL server processes serving one database (or one
    connection), read from /proc: on a shared machine the wall clock of a statement is
    mostly waiting for a core, its CPU time is not. Only for a server on this machine,
    readable by this user; elsewhere it reads nothing and `available` is False."""

    def __init__(self, connection: Any, database: str | None = None) -> None:
        self._connection = connection
        self._database = database
        self._tick = os.sysconf("SC_CLK_TCK")

    def _pids(self) -> list[int]:
        if self._database is None:
            return [self._connection.info.backend_pid]
        rows = self._connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self._database,))
        return [int(pid) for (pid,) in rows.fetchall()]

    def read(self) -> dict[int, float]:
        """CPU seconds so far per server process."""
        seconds = {}
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seconds[pid] = (int(fields[11]) + int(fields[12])) / self._tick
        return seconds

    def spent(self, before: dict[int, float]) -> float:
        """CPU seconds since `before` (a process started since counts from zero)."""
        return sum(now - before.get(pid, 0.0) for pid, now in self.read().items())

    @property
    def available(self) -> bool:
        return bool(self.read())
