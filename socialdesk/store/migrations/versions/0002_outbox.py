"""the outbox of outgoing actions (issue: answering)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate renders sqlmodel column types)
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    moment = sqlmodel.sql.sqltypes.UTCDateTime
    op.create_table(
        "outbox_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", text(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("platform", text(), nullable=False),
        sa.Column("kind", text(), nullable=False),
        sa.Column("state", text(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("target_message_id", sa.Integer(), nullable=True),
        sa.Column("target_external_id", text(), nullable=True),
        sa.Column("target_channel", text(), nullable=True),
        sa.Column("recipient_id", text(), nullable=True),
        sa.Column("thread_key", text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("requested_by", text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", moment(), nullable=True),
        sa.Column("claimed_by", text(), nullable=True),
        sa.Column("claimed_at", moment(), nullable=True),
        sa.Column("external_id", text(), nullable=True),
        sa.Column("created_at", moment(), nullable=False),
        sa.Column("updated_at", moment(), nullable=False),
        sa.Column("sent_at", moment(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.ForeignKeyConstraint(["target_message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_action_idempotency_key"),
    )
    with op.batch_alter_table("outbox_action", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_action_state_due", ["state", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_outbox_action_target", ["account_id", "kind", "target_external_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_action", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_action_target")
        batch_op.drop_index("ix_outbox_action_state_due")
    op.drop_table("outbox_action")
