"""an index on the outbox's conversation: opening a conversation no longer reads the outbox whole

Revision ID: 0014
Revises: 0013

Opening a conversation reads its hide/unhide actions (the thread's "hidden" marks), the
desk asks which answers reached a conversation while the composer was open (team mode),
and the acknowledgement skips conversations already answered: all by
`outbox_action.conversation_id`, which had no index, so each read walked every action
ever queued. Both engines.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_action_conversation", "outbox_action", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_action_conversation", table_name="outbox_action")
