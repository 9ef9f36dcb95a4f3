"""full-text search and queue-list indexes for the TUI (issue: triage TUI)

Revision ID: 0004
Revises: 0003

The queue list pages by keyset on `(sort column, id)` under each single filter, so every
filter the inbox offers has an index that starts with it and ends with the sort column.

Search: on SQLite an FTS5 external-content table over `message.text`, kept current by
triggers (`unicode61 remove_diacritics 2` so `citta` finds `città`); on PostgreSQL a GIN
index on `to_tsvector('simple', text)`. Both are hand-written because autogenerate cannot
describe them; `env.py` keeps autogenerate away from every `message_fts*` name.
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate renders sqlmodel column types)
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

QUEUE_INDEXES = {
    "ix_conversation_status_last_message": ["status", "last_message_at"],
    "ix_conversation_channel_last_message": ["channel", "last_message_at"],
    "ix_conversation_account_last_message": ["account_id", "last_message_at"],
    "ix_conversation_assignee_last_message": ["assignee", "last_message_at"],
    "ix_conversation_last_inbound": ["last_inbound_at"],
    "ix_conversation_updated": ["updated_at"],
    # Covers the "late" filter's count: status, due time and whether an answer came since.
    "ix_conversation_status_due": ["status", "first_response_due_at", "last_outbound_at",
                                   "sla_started_at", "last_message_at", "last_inbound_at"],
}

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE message_fts USING fts5(
           text, content='message', content_rowid='id',
           tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
           INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text);
       END""",
    """CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
           INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text);
       END""",
    """CREATE TRIGGER message_fts_update AFTER UPDATE OF text ON message BEGIN
           INSERT INTO message_fts(message_fts, rowid, text) VALUES ('delete', old.id, old.text);
           INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text);
       END""",
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
]

POSTGRES_SEARCH_INDEX = (
    "CREATE INDEX message_fts_gin ON message USING gin (to_tsvector('simple', text))"
)


def upgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        for name, columns in QUEUE_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(POSTGRES_SEARCH_INDEX)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("message_fts_insert", "message_fts_delete", "message_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS message_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS message_fts_gin")
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        for name in QUEUE_INDEXES:
            batch_op.drop_index(name)
