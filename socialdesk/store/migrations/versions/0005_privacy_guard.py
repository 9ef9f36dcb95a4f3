"""privacy guard: exposures, redirects, identity verification (issue: privacy guard)

Revision ID: 0005
Revises: 0004

`privacy_exposure` records which kinds of personal data a public message showed and what
the guard did about it, never the values. A redirected public conversation points to the
private one; a contact records who verified the person's identity, when and how.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate renders sqlmodel column types)
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    moment = sqlmodel.sql.sqltypes.UTCDateTime
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("redirected_at", moment(), nullable=True))
        batch_op.add_column(sa.Column("redirected_to_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_conversation_redirected_to_id", "conversation", ["redirected_to_id"], ["id"]
        )
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_at", moment(), nullable=True))
        batch_op.add_column(sa.Column("verified_by", text(), nullable=True))
        batch_op.add_column(sa.Column("verified_method", text(), nullable=True))
    op.create_table(
        "privacy_exposure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("types", text(), nullable=False),
        sa.Column("detected_at", moment(), nullable=False),
        sa.Column("mode", text(), nullable=False),
        sa.Column("outcome", text(), nullable=False),
        sa.Column("language", text(), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("resolved_by", text(), nullable=True),
        sa.Column("resolved_at", moment(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"],
                                name="fk_privacy_exposure_conversation_id"),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"],
                                name="fk_privacy_exposure_message_id"),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_exposure"),
        sa.UniqueConstraint("message_id", name="uq_privacy_exposure_message"),
    )
    with op.batch_alter_table("privacy_exposure", schema=None) as batch_op:
        batch_op.create_index("ix_privacy_exposure_conversation",
                              ["conversation_id", "detected_at"], unique=False)
        batch_op.create_index("ix_privacy_exposure_outcome", ["outcome"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("privacy_exposure", schema=None) as batch_op:
        batch_op.drop_index("ix_privacy_exposure_outcome")
        batch_op.drop_index("ix_privacy_exposure_conversation")
    op.drop_table("privacy_exposure")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("verified_method")
        batch_op.drop_column("verified_by")
        batch_op.drop_column("verified_at")
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_constraint("fk_conversation_redirected_to_id", type_="foreignkey")
        batch_op.drop_column("redirected_to_id")
        batch_op.drop_column("redirected_at")
