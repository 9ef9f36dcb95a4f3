"""Roles: from `[team]` in the config or the database (the config wins), what each may, and
the privacy mode a role changes at run time, which the guard then follows (issue 19)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from socialdesk.config import Settings, settings_from_mapping
from socialdesk.desk.privacy_mode import privacy_mode_in_force, set_privacy_mode
from socialdesk.desk.roles import Permission, allowed, grant_role, require, role_of, team_roles
from socialdesk.errors import ConfigError, PermissionDenied, UsageError
from socialdesk.store.models import AuditEntry

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEAM = {"roles": {"AB": "lead", "CD": "agent"}}
X_ACCOUNT = {"name": "brand-x", "platform": "x", "user_id": "99",
             **{f"{key}_env": f"SOCIALDESK_TEST_NO_{key.upper()}" for key in (
                 "bearer_token", "consumer_key", "consumer_secret", "access_token",
                 "access_token_secret")}}


def settings(**sections: Any) -> Settings:
    return settings_from_mapping(sections, source="test.toml")


def test_without_a_team_section_one_manager_may_everything_but_unmask() -> None:
    alone = settings()
    assert all(allowed(alone, None, "ME", permission) for permission in Permission
               if permission is not Permission.UNMASK)
    assert not allowed(alone, None, "ME", Permission.UNMASK)
    assert allowed(settings(reports={"unmask_operators": ["ME"]}), None, "ME",
                   Permission.UNMASK)


def test_a_lead_may_everything_and_an_agent_nothing_by_default() -> None:
    team = settings(team=TEAM)
    assert all(allowed(team, None, "AB", permission) for permission in Permission)
    assert not any(allowed(team, None, "CD", permission) for permission in Permission)
    assert role_of(team, None, "ZZ") is not None
    assert not allowed(team, None, "ZZ", Permission.REVEAL), "unnamed initials are agents"


def test_permissions_per_role_come_from_the_config() -> None:
    team = settings(team={**TEAM, "permissions": {"agent": ["reveal", "verify"]},
                          "default_role": "lead"})
    assert allowed(team, None, "CD", Permission.REVEAL)
    assert not allowed(team, None, "CD", Permission.UNMASK)
    assert allowed(team, None, "ZZ", Permission.PRIVACY_MODE)


def test_unmask_operators_still_grant_unmasking_with_a_team() -> None:
    team = settings(team=TEAM, reports={"unmask_operators": ["CD"]})
    assert allowed(team, None, "CD", Permission.UNMASK)
    assert not allowed(team, None, "CD", Permission.REVEAL)


def test_a_refusal_names_the_role_and_what_to_do() -> None:
    with pytest.raises(PermissionDenied) as refused:
        require(settings(team=TEAM), None, "CD", Permission.UNMASK)
    assert refused.value.message == ("CD may not unmask reports (role agent); ask a lead, or "
                                     "see [team] in the config")
    with pytest.raises(PermissionDenied, match="unmask_operators"):
        require(settings(), None, "ME", Permission.UNMASK)


def test_an_undefined_role_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="boss"):
        settings(team={"roles": {"AB": "boss"}})


def test_roles_granted_in_the_database_count_and_the_config_wins(store: Engine) -> None:
    team = settings(team=TEAM)
    grant_role(team, store, "EF", "lead", by="AB", now=NOW)
    grant_role(team, store, "CD", "lead", by="AB", now=NOW)
    assert allowed(team, store, "EF", Permission.UNMASK)
    assert not allowed(team, store, "CD", Permission.UNMASK), "the config says agent"
    assert [(r.initials, r.role, r.source) for r in team_roles(team, store)] == [
        ("AB", "lead", "config"), ("CD", "agent", "config"), ("EF", "lead", "database")]
    grant_role(team, store, "EF", None, by="AB", now=NOW)
    assert not allowed(team, store, "EF", Permission.UNMASK)
    with Session(store) as session:
        audited = session.exec(select(AuditEntry).where(AuditEntry.action == "team.role")).all()
    assert [(a.actor, a.target_id, a.detail["role"]) for a in audited] == [
        ("AB", "EF", "lead"), ("AB", "CD", "lead"), ("AB", "EF", None)]


def test_only_a_role_that_may_grants_roles(store: Engine) -> None:
    team = settings(team=TEAM)
    with pytest.raises(PermissionDenied, match="CD may not grant roles"):
        grant_role(team, store, "CD", "lead", by="CD", now=NOW)
    with pytest.raises(UsageError, match="no role 'boss'"):
        grant_role(team, store, "EF", "boss", by="AB", now=NOW)
    with pytest.raises(UsageError, match=r"\[team\] section"):
        grant_role(settings(), store, "EF", "lead", by="AB", now=NOW)
    assert team_roles(team, store)[-1].initials == "CD"


def test_the_privacy_mode_set_at_run_time_wins_and_is_audited(store: Engine) -> None:
    team = settings(team=TEAM, accounts=[X_ACCOUNT], privacy={"mode": "suggest"})
    assert privacy_mode_in_force(team, store, "brand-x").mode == "suggest"
    with pytest.raises(PermissionDenied, match="CD may not change the privacy mode"):
        set_privacy_mode(team, store, "brand-x", "off", by="CD", now=NOW)
    set_privacy_mode(team, store, "brand-x", "off", by="AB", now=NOW)
    shown = privacy_mode_in_force(team, store, "brand-x")
    assert (shown.mode, shown.source, shown.set_at) == ("off", "set by AB", NOW)
    set_privacy_mode(team, store, "brand-x", None, by="AB", now=NOW)
    assert privacy_mode_in_force(team, store, "brand-x").mode == "suggest"
    with Session(store) as session:
        audited = session.exec(select(AuditEntry).where(AuditEntry.action == "privacy.mode")
                               ).all()
    assert [a.detail for a in audited] == [{"mode": "off", "previous": None},
                                           {"mode": None, "previous": "off"}]


def test_the_guard_follows_the_mode_set_at_run_time(store: Engine) -> None:
    from tests.store.test_privacy_guard import IBAN, guard, ingest_mention

    team = settings(team=TEAM, accounts=[X_ACCOUNT])
    set_privacy_mode(team, store, "brand-x", "off", by="AB", now=NOW)
    ingest_mention(store, f"@brand rimborso sul mio IBAN {IBAN} per favore")
    assert guard(store, "suggest") == [], "the config says suggest; the team said off"
    set_privacy_mode(team, store, "brand-x", "suggest", by="AB", now=NOW)
    assert len(guard(store, "off")) == 1


def test_the_example_configs_team_section_loads_when_uncommented() -> None:
    import tomllib

    from tests.support import REPO

    lines = (REPO / "config.example.toml").read_text().splitlines()
    start = lines.index("# [team]")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line.removeprefix("# "))
    team = settings(**tomllib.loads("\n".join(block)))
    assert team.team is not None and team.team.roles == {"AB": "lead", "CD": "agent"}
    assert allowed(team, None, "CD", Permission.REVEAL)
    assert not allowed(team, None, "CD", Permission.UNMASK)
