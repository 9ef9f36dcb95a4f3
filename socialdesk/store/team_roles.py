"""Roles granted in the database (`socialdesk team role`); `socialdesk.desk.roles` reads
them under the config's `[team] roles`, which win."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from socialdesk.store.team_models import TeamRole


def granted_role(engine: Engine, initials: str) -> str | None:
    with Session(engine) as session:
        return session.exec(select(TeamRole.role).where(TeamRole.initials == initials)).first()


def granted_roles(engine: Engine) -> list[TeamRole]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(TeamRole).order_by(col(TeamRole.initials))).all())


def store_role(session: Session, initials: str, role: str, by: str, now: datetime) -> None:
    """Grant `role` to `initials` (replacing their granted role) in the session's
    transaction, which the caller commits with its audit entry."""
    row = session.get(TeamRole, initials)
    if row is None:
        row = TeamRole(initials=initials, role=role, granted_by=by, granted_at=now)
    else:
        row.role, row.granted_by, row.granted_at = role, by, now
    session.add(row)


def drop_role(session: Session, initials: str) -> bool:
    """Remove the role granted to `initials`; False when there was none."""
    row = session.get(TeamRole, initials)
    if row is None:
        return False
    session.delete(row)
    return True
