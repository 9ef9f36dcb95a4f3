"""which detector settings found each account's stored spans (issue 15, point 3)

Revision ID: 0011
Revises: 0010

`detection_scan` holds, per account, the fingerprint of the `[privacy]` detector settings
its stored spans were found with. `socialdesk privacy rescan` writes it; `doctor`, `sync`
and the desk compare it with the config's and say to rescan when they differ. A store from
before this migration has no row: the first sync records the settings in force, taking the
spans already stored as found with them (run `socialdesk privacy rescan` once to be sure).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate renders sqlmodel column types)
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "detection_scan",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("scanned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"],
                                name="fk_detection_scan_account_id"),
        sa.PrimaryKeyConstraint("account_id", name="pk_detection_scan"),
    )


def downgrade() -> None:
    op.drop_table("detection_scan")
