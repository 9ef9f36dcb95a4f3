"""Opening a conversation reads its outbox actions by index, not by reading the outbox whole
(migration 0014): the thread's hidden marks are read at every Enter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, text

from socialdesk.store.queries.conversation import conversation_view
from tests.store.test_desk_queries import seed


def _outbox_reads(store: Engine, conversation_id: int) -> list[tuple[str, Any]]:
    """The statements opening the conversation sends that read `outbox_action`."""
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM outbox_action" in statement:
            sent.append((statement, parameters))

    event.listen(store, "before_cursor_execute", keep)
    try:
        conversation_view(store, conversation_id)
    finally:
        event.remove(store, "before_cursor_execute", keep)
    return sent


def _plan(store: Engine, statement: str, parameters: Any) -> str:
    with store.connect() as connection:
        if store.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return " ".join(str(row[-1]) for row in rows)
        connection.execute(text("SET enable_seqscan = off"))  # a tiny table is read whole
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return " ".join(str(row[0]) for row in rows)


def test_opening_a_conversation_reads_its_outbox_actions_by_index(store: Engine) -> None:
    conversation_id = seed(store, 5)[1]
    reads = _outbox_reads(store, conversation_id)
    assert reads, "the conversation view reads its hide/unhide actions"
    for statement, parameters in reads:
        plan = _plan(store, statement, parameters)
        assert "ix_outbox_action_conversation" in plan, plan
