"""the last usage headers of each stream (issue 14, point 8)

Revision ID: 0009
Revises: 0007

`sync_cursor.rate_budget` holds, as JSON, every rate-limit window the platform's headers
named after the stream's last page (X: `x-rate-limit-*` and the 24-hour caps; Graph: the
highest usage percentage and the regain time), so `run` paces its first polls after a
restart and never spends a budget before its reset. NULL until a pull has seen headers.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate renders sqlmodel column types)
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_cursor", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rate_budget", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_cursor", schema=None) as batch_op:
        batch_op.drop_column("rate_budget")
