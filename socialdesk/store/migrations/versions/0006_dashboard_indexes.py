"""an index for the dashboard and the conversations report (issues: TUI, reports)

Revision ID: 0006
Revises: 0005

The dashboard measures the first response of conversations opened in the last two weeks,
and the conversations report walks conversations in `opened_at` order; both read this
index alone (70 ms and a sort of every conversation without it, at a million messages).

No index for the dashboard's inbound counts: one on inbound messages by time, tried here,
lured SQLite into finding a conversation's last customer message (the queue's preview) by
walking every inbound message from the newest, a second per page at a million messages.
The dashboard counts off the keyboard's thread instead.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conversation_opened", "conversation", ["opened_at", "first_response_at"])


def downgrade() -> None:
    op.drop_index("ix_conversation_opened", table_name="conversation")
