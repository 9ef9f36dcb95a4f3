"""The `[team]` config section: which role each operator has and what each role may
(`socialdesk.desk.roles` decides with it). Without the section one manager may everything."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from socialdesk.rules_config import Strict


class Permission(StrEnum):
    """What a role may do beyond answering (`[team.permissions]`)."""

    UNMASK = "unmask"
    """`report --unmask`: personal data in clear in an export."""
    REVEAL = "reveal"
    """`v` in the desk: a masked message shown in clear."""
    VERIFY_IDENTITY = "verify"
    """Identity verification on the customer card."""
    PRIVACY_MODE = "privacy_mode"
    """`socialdesk privacy mode`: an account's privacy mode changed at run time."""
    ROLES = "roles"
    """`socialdesk team role`: roles granted in the database."""


LEAD = "lead"
AGENT = "agent"
DEFAULT_PERMISSIONS: dict[str, tuple[Permission, ...]] = {
    LEAD: tuple(Permission),
    AGENT: (),
}
"""A lead may everything, an agent answers; `[team.permissions]` changes or adds roles."""

Initials = Annotated[str, Field(min_length=1, max_length=8, pattern=r"^[A-Za-z0-9.]+$")]
RoleName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_-]*$")]


class TeamSettings(Strict):
    """`[team]`: roles for a team sharing one PostgreSQL database. With the section, what an
    operator may is what their role may; without it, everyone may everything but
    `report --unmask`, which `[reports] unmask_operators` grants as before."""

    roles: dict[Initials, RoleName] = Field(default_factory=dict)
    """Initials -> role, e.g. `{ AB = "lead", CD = "agent" }`; wins over the roles granted in
    the database with `socialdesk team role`."""
    permissions: dict[RoleName, tuple[Permission, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_PERMISSIONS))
    """Role -> what it may: "unmask", "reveal", "verify", "privacy_mode", "roles". Roles
    named here replace the default of the same name; `lead` (everything) and `agent`
    (nothing) stay defined unless redefined."""
    default_role: RoleName = AGENT
    """The role of initials neither `roles` nor the database names."""

    @field_validator("permissions")
    @classmethod
    def _over_the_defaults(cls, value: dict[str, tuple[Permission, ...]]
                           ) -> dict[str, tuple[Permission, ...]]:
        return {**DEFAULT_PERMISSIONS, **value}

    @model_validator(mode="after")
    def _roles_are_defined(self) -> TeamSettings:
        known = ", ".join(sorted(self.permissions))
        for initials, role in self.roles.items():
            if role not in self.permissions:
                raise ValueError(f"roles.{initials}: no role {role!r} in [team.permissions] "
                                 f"(roles: {known})")
        if self.default_role not in self.permissions:
            raise ValueError(f"default_role: no role {self.default_role!r} in "
                             f"[team.permissions] (roles: {known})")
        return self

    def may(self, role: str, permission: Permission) -> bool:
        return permission in self.permissions.get(role, ())
