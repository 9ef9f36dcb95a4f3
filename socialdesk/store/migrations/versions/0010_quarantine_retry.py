"""quarantine: one row per item, attempts, resolution (issue 14 point 6)

Revision ID: 0010
Revises: 0007

A set-aside item is kept once (`fingerprint`: its platform id, or a hash of its body when
it has none) with how often it was read and failed and when it was resolved, so every pass
can re-read the waiting ones. Rows stored twice before this migration are merged: the
newest body and reason stay, `attempts` counts the rows, `received_at` is the first.
The fingerprint function is a frozen copy of `socialdesk.store.quarantine.fingerprint` (a test
keeps them equal).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401  (autogenerate renders sqlmodel column types)
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def fingerprint(external_id: str | None, raw: Any) -> str:
    """Frozen copy of `socialdesk.store.quarantine.fingerprint`."""
    if external_id:
        return f"id:{external_id}"
    body = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return "raw:" + hashlib.sha256(body.encode()).hexdigest()


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    moment = sqlmodel.sql.sqltypes.UTCDateTime
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", text(), nullable=True))
        batch_op.add_column(sa.Column("last_attempt_at", moment(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", moment(), nullable=True))
    _merge_existing_rows()
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.alter_column("fingerprint", existing_type=text(), nullable=False)
        batch_op.alter_column("last_attempt_at", existing_type=moment(), nullable=False)
        batch_op.alter_column("attempts", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint("uq_quarantine_item",
                                          ["account_id", "stream", "fingerprint"])
        batch_op.create_index("ix_quarantine_waiting", ["resolved_at", "account_id", "stream"],
                              unique=False)


def _merge_existing_rows() -> None:
    """One row per (account, stream, fingerprint): the newest kept, the others counted."""
    quarantine = sa.table(
        "quarantine", sa.column("id", sa.Integer()), sa.column("account_id", sa.Integer()),
        sa.column("stream", sa.String()), sa.column("external_id", sa.String()),
        sa.column("raw", sa.JSON()), sa.column("received_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("fingerprint", sa.String()), sa.column("attempts", sa.Integer()),
        sa.column("last_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    bind = op.get_bind()
    groups: dict[tuple[int, str, str], list[Any]] = {}
    for row in bind.execute(sa.select(quarantine).order_by(quarantine.c.id)):
        key = (row.account_id, row.stream, fingerprint(row.external_id, row.raw))
        groups.setdefault(key, []).append(row)
    for (_account, _stream, print_), rows in groups.items():
        newest = rows[-1]
        bind.execute(
            quarantine.update().where(quarantine.c.id == newest.id).values(
                fingerprint=print_, attempts=len(rows),
                received_at=min(r.received_at for r in rows),
                last_attempt_at=max(r.received_at for r in rows),
            )
        )
        older = [r.id for r in rows[:-1]]
        if older:
            bind.execute(quarantine.delete().where(quarantine.c.id.in_(older)))


def downgrade() -> None:
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantine_waiting")
        batch_op.drop_constraint("uq_quarantine_item", type_="unique")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("fingerprint")
