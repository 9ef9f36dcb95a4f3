"""Who may unmask, reveal, verify identities, change the privacy mode and grant roles.

A role comes from the config's `[team] roles` first, then from the database (granted with
`socialdesk team role`), else `[team] default_role`; `[team.permissions]` says what each
role may. Without a `[team]` section one manager may everything, as before roles existed,
but `report --unmask`, which `[reports] unmask_operators` grants (and still grants with
`[team]`, so adding the section never takes that right from anyone listed there).

The CLI and the desk ask the same two functions, so a refusal reads the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.config import Settings
from socialdesk.errors import PermissionDenied, UsageError
from socialdesk.store.models import AuditEntry
from socialdesk.store.team_roles import drop_role, granted_role, granted_roles, store_role
from socialdesk.team_config import Permission as Permission

RoleSource = Literal["config", "database", "default"]

WHAT = {
    Permission.UNMASK: "unmask reports",
    Permission.REVEAL: "reveal personal data",
    Permission.VERIFY_IDENTITY: "verify identities",
    Permission.PRIVACY_MODE: "change the privacy mode",
    Permission.ROLES: "grant roles",
}
"""How a refusal names the permission: "AB may not unmask reports"."""


@dataclass(frozen=True)
class Role:
    """An operator's role and where it was read."""

    initials: str
    role: str
    source: RoleSource


def role_of(settings: Settings, engine: Engine | None, initials: str) -> Role | None:
    """The operator's role; None without a `[team]` section (one manager, no roles). A
    stored role that `[team.permissions]` no longer defines counts as `default_role`."""
    team = settings.team
    if team is None:
        return None
    if initials in team.roles:
        return Role(initials, team.roles[initials], "config")
    stored = granted_role(engine, initials) if engine is not None else None
    if stored is not None and stored in team.permissions:
        return Role(initials, stored, "database")
    return Role(initials, team.default_role, "default")


def allowed(settings: Settings, engine: Engine | None, initials: str,
            permission: Permission) -> bool:
    if permission is Permission.UNMASK and initials in settings.reports.unmask_operators:
        return True  # without reading the role
    return role_allows(settings, initials, role_of(settings, engine, initials), permission)


def role_allows(settings: Settings, initials: str, role: Role | None,
                permission: Permission) -> bool:
    """`allowed`, for a role already read (`role_of`; a `team_roles` entry whose stored role
    `[team.permissions]` no longer defines counts as `default_role`, as there)."""
    if permission is Permission.UNMASK and initials in settings.reports.unmask_operators:
        return True
    team = settings.team
    if role is None or team is None:
        return permission is not Permission.UNMASK
    return team.may(role.role if role.role in team.permissions else team.default_role,
                    permission)


def require(settings: Settings, engine: Engine | None, initials: str,
            permission: Permission) -> None:
    """Raises PermissionDenied, saying what would allow it, unless `allowed`."""
    role = role_of(settings, engine, initials)
    if role_allows(settings, initials, role, permission):
        return
    if role is None:
        raise PermissionDenied(
            f"{initials} may not {WHAT[permission]}: add the initials to [reports] "
            "unmask_operators, or give them a role that may in [team] in the config")
    raise PermissionDenied(f"{initials} may not {WHAT[permission]} (role {role.role}); "
                           "ask a lead, or see [team] in the config")


def team_roles(settings: Settings, engine: Engine) -> list[Role]:
    """Every role named in the config or the database, the one in force for each initials
    (the config's over the database's), by initials."""
    team = settings.team
    found = {row.initials: Role(row.initials, row.role, "database")
             for row in granted_roles(engine)}
    if team is not None:
        found |= {initials: Role(initials, role, "config")
                  for initials, role in team.roles.items()}
    return [found[initials] for initials in sorted(found)]


def grant_role(settings: Settings, engine: Engine, initials: str, role: str | None, *,
               by: str, now: datetime) -> None:
    """Store `role` for `initials` in the database (None: remove the stored one), audited,
    when `by` may grant roles. Refused for a role `[team.permissions]` does not define, and
    without a `[team]` section, where roles are not read."""
    team = settings.team
    if team is None:
        raise UsageError("roles are read only with a [team] section in the config; add one "
                         "(see config.example.toml) and grant roles again")
    require(settings, engine, by, Permission.ROLES)
    if role is not None and role not in team.permissions:
        raise UsageError(f"no role {role!r} in [team.permissions] (roles: "
                         f"{', '.join(sorted(team.permissions))})")
    with Session(engine) as session:
        if role is None:
            if not drop_role(session, initials):
                raise UsageError(f"{initials} has no role stored in the database")
        else:
            store_role(session, initials, role, by, now)
        session.add(AuditEntry(at=now, actor=by, action="team.role", target_type="operator",
                               target_id=initials, detail={"role": role}))
        session.commit()
