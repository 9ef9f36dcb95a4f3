"""the privacy guard's durable "not yet decided" state (issue 14, point 2)

Revision ID: 0008
Revises: 0007

`message.privacy_state` is written by ingest in the message's own INSERT: `undecided` for an
inbound public message with personal data. The guard reads the undecided ones through a
partial index (a handful of rows, never the whole table) and marks each `decided` in the
transaction that records its exposure, so a crash anywhere between ingest and the guard
leaves the message for the next pass instead of unguarded for good.

Backfill: inbound public messages with personal data that have an exposure are `decided`;
those without one (a pass that crashed before its guard ran, or `mode = "off"` then) are
`undecided`, so the first pass after the upgrade guards them.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate renders sqlmodel column types)
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UNDECIDED_ONLY = sa.text("privacy_state = 'undecided'")
PUBLIC_INBOUND_WITH_PII = (
    "direction = 'inbound' AND visibility = 'public' AND has_pii = {true}"
)


def upgrade() -> None:
    # a plain ADD COLUMN, never a batch copy: the copy would drop 0004's full-text triggers
    op.add_column("message", sa.Column("privacy_state", sqlmodel.sql.sqltypes.AutoString(),
                                       nullable=True))
    true = "true" if op.get_bind().dialect.name == "postgresql" else "1"
    guarded = "id IN (SELECT message_id FROM privacy_exposure)"
    where = PUBLIC_INBOUND_WITH_PII.format(true=true)
    op.execute(f"UPDATE message SET privacy_state = 'decided' WHERE {where} AND {guarded}")
    op.execute(f"UPDATE message SET privacy_state = 'undecided' WHERE {where} AND NOT {guarded}")
    op.create_index("ix_message_privacy_undecided", "message", ["account_id", "id"],
                    sqlite_where=UNDECIDED_ONLY, postgresql_where=UNDECIDED_ONLY)


def downgrade() -> None:
    op.drop_index("ix_message_privacy_undecided", table_name="message")
    op.drop_column("message", "privacy_state")
