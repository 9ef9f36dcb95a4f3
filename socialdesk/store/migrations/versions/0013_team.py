"""team mode: desks' presence, take-next holds, roles, run-time privacy modes, and NOTIFY
triggers for live updates (issue 19)

Revision ID: 0013
Revises: 0012

`ix_conversation_waiting_for_answer` indexes, in take-next's order, only the conversations
that wait for an answer from us. `desk_presence` holds one row per desk session
(heartbeats), `conversation_hold` one row per conversation handed out by take-next,
`team_role` the roles granted with `socialdesk team role`, `privacy_mode_override` the
privacy modes set with `socialdesk privacy mode`.

PostgreSQL only: triggers send a notification on the channel `socialdesk_changes` when a
conversation, message or outbox action is written (one per statement, not per row: an
ingest page of 100 messages sends one), and when a desk's presence or a hold changes in
a way other desks show (a heartbeat that only renews sends nothing). The payload is JSON,
`{"table": "message", "rows": [[id, conversation_id], ...]}`, with `rows` null when a
statement wrote more than `MAX_ROWS` rows (the listener then re-reads everything);
`socialdesk.store.live_updates` reads it. SQLite has no LISTEN: its desks poll as before.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate renders sqlmodel column types)
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

CHANNEL = "socialdesk_changes"
MAX_ROWS = 100
"""Rows named in one notification; PostgreSQL refuses payloads over 8,000 bytes."""

STATEMENT_TABLES = (  # table, name in the payload, its id column, its conversation column
    ("conversation", "conversation", "id", "id"),
    ("message", "message", "id", "conversation_id"),
    ("outbox_action", "outbox", "id", "conversation_id"),
)
ROW_TABLES = (  # table, name in the payload, its id column, the columns other desks show
    ("desk_presence", "presence", "desk_id", ("initials", "conversation_id", "typing")),
    ("conversation_hold", "hold", "conversation_id", ("desk_id",)),
)

NOTIFY_ROWS = f"""
CREATE OR REPLACE FUNCTION socialdesk_notify_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    written bigint;
    named json;
BEGIN
    EXECUTE format(
        'SELECT count(*), json_agg(json_build_array(row_id, conversation_id)) FROM '
        '(SELECT %I AS row_id, %I AS conversation_id FROM changed_rows LIMIT {MAX_ROWS + 1}) r',
        TG_ARGV[1], TG_ARGV[2]) INTO written, named;
    IF written > 0 THEN
        PERFORM pg_notify('{CHANNEL}', json_build_object(
            'table', TG_ARGV[0],
            'rows', CASE WHEN written > {MAX_ROWS} THEN NULL ELSE named END)::text);
    END IF;
    RETURN NULL;
END $$
"""

NOTIFY_ROW = f"""
CREATE OR REPLACE FUNCTION socialdesk_notify_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed json;
BEGIN
    IF TG_OP = 'DELETE' THEN changed := to_json(OLD); ELSE changed := to_json(NEW); END IF;
    PERFORM pg_notify('{CHANNEL}', json_build_object(
        'table', TG_ARGV[0],
        'rows', json_build_array(json_build_array(
            changed -> TG_ARGV[1], changed -> 'conversation_id')))::text);
    RETURN NULL;
END $$
"""


WAITING_FOR_ANSWER = sa.text(  # a frozen copy of socialdesk.store.models.WAITING_FOR_ANSWER
    "status IN ('new', 'open') AND last_inbound_at IS NOT NULL "
    "AND (last_outbound_at IS NULL OR last_outbound_at < last_inbound_at)")


def upgrade() -> None:
    op.create_index("ix_conversation_waiting_for_answer", "conversation",
                    ["last_inbound_at", "id"], sqlite_where=WAITING_FOR_ANSWER,
                    postgresql_where=WAITING_FOR_ANSWER)
    text = sqlmodel.sql.sqltypes.AutoString
    moment = sqlmodel.sql.sqltypes.UTCDateTime
    op.create_table(
        "desk_presence",
        sa.Column("desk_id", text(), nullable=False),
        sa.Column("initials", text(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("typing", sa.Boolean(), nullable=False),
        sa.Column("seen_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("desk_id", name="pk_desk_presence"),
    )
    op.create_index("ix_desk_presence_seen", "desk_presence", ["seen_at"], unique=False)
    op.create_table(
        "conversation_hold",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("desk_id", text(), nullable=False),
        sa.Column("initials", text(), nullable=False),
        sa.Column("taken_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("heard_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_conversation_hold"),
    )
    op.create_index("ix_conversation_hold_desk", "conversation_hold", ["desk_id"], unique=False)
    op.create_table(
        "team_role",
        sa.Column("initials", text(), nullable=False),
        sa.Column("role", text(), nullable=False),
        sa.Column("granted_by", text(), nullable=False),
        sa.Column("granted_at", moment(), nullable=False),
        sa.PrimaryKeyConstraint("initials", name="pk_team_role"),
    )
    op.create_table(
        "privacy_mode_override",
        sa.Column("account", text(), nullable=False),
        sa.Column("mode", text(), nullable=False),
        sa.Column("set_by", text(), nullable=False),
        sa.Column("set_at", moment(), nullable=False),
        sa.PrimaryKeyConstraint("account", name="pk_privacy_mode_override"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _create_triggers()


def _create_triggers() -> None:
    op.execute(NOTIFY_ROWS)
    op.execute(NOTIFY_ROW)
    for table, name, id_column, conversation_column in STATEMENT_TABLES:
        for event, transition in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER socialdesk_notify_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {transition} TABLE AS changed_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION socialdesk_notify_rows('{name}', '{id_column}', "
                f"'{conversation_column}')")
    for table, name, id_column, shown in ROW_TABLES:
        changed = " OR ".join(f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in shown)
        op.execute(f"CREATE TRIGGER socialdesk_notify_write AFTER INSERT OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION socialdesk_notify_row('{name}', '{id_column}')")
        op.execute(f"CREATE TRIGGER socialdesk_notify_update AFTER UPDATE ON {table} "
                   f"FOR EACH ROW WHEN ({changed}) "
                   f"EXECUTE FUNCTION socialdesk_notify_row('{name}', '{id_column}')")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for table, *_rest in STATEMENT_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS socialdesk_notify_{event} ON {table}")
    op.drop_table("privacy_mode_override")
    op.drop_table("team_role")
    op.drop_index("ix_conversation_hold_desk", table_name="conversation_hold")
    op.drop_table("conversation_hold")
    op.drop_index("ix_desk_presence_seen", table_name="desk_presence")
    op.drop_table("desk_presence")
    op.drop_index("ix_conversation_waiting_for_answer", table_name="conversation")
    if postgres:  # the tables' own triggers went with them
        op.execute("DROP FUNCTION IF EXISTS socialdesk_notify_rows()")
        op.execute("DROP FUNCTION IF EXISTS socialdesk_notify_row()")
