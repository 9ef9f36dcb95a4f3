"""Team mode from the command line (issue 19): roles checked by `report --unmask`, granted
with `team role`, desks listed by `team who`, and the privacy mode changed at run time with
`privacy mode`, which `reply` then follows."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from socialdesk.sandbox import SandboxServer
from socialdesk.store.db import open_store
from socialdesk.store.models import AuditEntry
from socialdesk.store.team import heartbeat, take_next
from tests.cli.test_public_answer_hold import held, sandbox, socialdesk  # noqa: F401
from tests.store.team_seed import account, waiting
from tests.support import run_cli

TEAM = '[team]\nroles = { AB = "lead", CD = "agent" }\n'


def team_desk(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "desk.db"}"\n{TEAM}{extra}')
    return config


def test_an_agent_asking_for_an_unmasked_report_is_refused_in_one_line(tmp_path: Path) -> None:
    config = team_desk(tmp_path)
    refused = run_cli("report", "messages", "--unmask", "--as", "CD", "--config", str(config))
    assert refused.returncode == 77
    assert refused.stderr == ("socialdesk: not allowed: CD may not unmask reports (role agent); "
                              "ask a lead, or see [team] in the config\n")
    allowed = run_cli("report", "messages", "--unmask", "--as", "AB", "--config", str(config))
    assert allowed.returncode == 0, allowed.stderr


def test_a_lead_grants_a_role_in_the_database_and_an_agent_cannot(tmp_path: Path) -> None:
    config = team_desk(tmp_path)
    refused = run_cli("team", "role", "EF", "lead", "--as", "CD", "--config", str(config))
    assert refused.returncode == 77 and "CD may not grant roles" in refused.stderr
    granted = run_cli("team", "role", "EF", "lead", "--as", "AB", "--config", str(config))
    assert granted.returncode == 0, granted.stderr
    listed = run_cli("team", "role", "--config", str(config))
    assert listed.stdout.splitlines() == ["initials\trole\tfrom", "AB\tlead\tconfig",
                                          "CD\tagent\tconfig", "EF\tlead\tdatabase"]
    unmasked = run_cli("report", "messages", "--unmask", "--as", "EF", "--config", str(config))
    assert unmasked.returncode == 0, unmasked.stderr


def test_team_who_lists_the_desks_open_now_and_what_they_took(tmp_path: Path) -> None:
    config = team_desk(tmp_path)
    engine = open_store(f"sqlite:///{tmp_path / 'desk.db'}")
    taken = waiting(engine, account(engine), 1)
    ab, cd = uuid.uuid4().hex, uuid.uuid4().hex
    assert take_next(engine, ab, "AB") == taken
    heartbeat(engine, cd, "CD", conversation_id=taken, typing=True)
    engine.dispose()
    who = run_cli("team", "who", "--config", str(config))
    assert who.returncode == 0, who.stderr
    rows = [line.split("\t")[:5] for line in who.stdout.splitlines()]
    assert rows == [["initials", "desk", "conversation", "typing", "holds"],
                    ["AB", ab[:8], str(taken), "", str(taken)],
                    ["CD", cd[:8], str(taken), "typing", ""]]
    assert who.stderr == "2 desk(s)\n"


def test_privacy_mode_off_set_at_run_time_lets_a_public_answer_go(
    sandbox: SandboxServer, held: tuple[Path, Engine, int],  # noqa: F811
) -> None:
    config_path, engine, conversation_id = held
    shown = socialdesk(config_path, "privacy", "mode", "sandbox-x")
    assert shown.stdout == "sandbox-x\tsuggest\t[privacy] mode in the config\n"
    changed = socialdesk(config_path, "privacy", "mode", "sandbox-x", "off", "--as", "AB")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.startswith("sandbox-x\toff\tset by AB at ")
    replied = socialdesk(config_path, "reply", str(conversation_id), "--text", "On it",
                         "--as", "AB")
    assert replied.returncode == 0, replied.stderr
    with Session(engine) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "privacy.mode")).one()
    assert (audit.actor, audit.target_id, audit.detail) == (
        "AB", "sandbox-x", {"mode": "off", "previous": None})
    engine.dispose()
