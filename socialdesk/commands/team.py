"""`socialdesk team who|role` and `socialdesk privacy mode`: a team's desks, roles and the
privacy mode changed at run time (issue 19)."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO, cast

from socialdesk.clock import system_clock, zone_time
from socialdesk.config import load_settings
from socialdesk.rules_config import PrivacyMode
from socialdesk.store.db import open_configured_store

BACK_TO_CONFIG = "config"
"""`socialdesk privacy mode ACCOUNT config`: drop the stored mode, the config decides."""


def run_team_who(config_path: Path, out: TextIO) -> int:
    """The desks open now, tab-separated: initials, the conversation open (and whether the
    operator types in it), the conversation take-next handed them, the last heartbeat.
    Returns how many desks."""
    from socialdesk.store.team import holds, present

    settings = load_settings(config_path)
    engine = open_configured_store(settings)
    desks, held = present(engine), holds(engine)
    taken: dict[str, list[int]] = {}
    for conversation, desk in held.items():
        taken.setdefault(desk.desk_id, []).append(conversation)
    now = system_clock()
    print("initials\tdesk\tconversation\ttyping\tholds\tseen", file=out)
    for desk in desks:
        print("\t".join((
            desk.initials, desk.desk_id[:8],
            "" if desk.conversation_id is None else str(desk.conversation_id),
            "typing" if desk.typing else "",
            " ".join(str(held_id) for held_id in taken.get(desk.desk_id, [])),
            zone_time(desk.seen_at, settings.desk_zone, now))), file=out)
    return len(desks)


def run_team_role(config_path: Path, initials: str | None, role: str | None, remove: bool,
                  operator: str | None, out: TextIO, err: TextIO) -> int:
    """List every role (no INITIALS), show one operator's, or grant/remove one."""
    from socialdesk.desk.roles import grant_role, role_of, team_roles

    settings = load_settings(config_path)
    engine = open_configured_store(settings)
    if initials is not None and (role is not None or remove):
        by = settings.operator.for_session(operator).initials
        grant_role(settings, engine, initials, None if remove else role, by=by,
                   now=system_clock())
        if settings.team is not None and initials in settings.team.roles:
            print(f"note: [team] roles in the config gives {initials} the role "
                  f"{settings.team.roles[initials]!r}, which wins", file=err)
    shown = team_roles(settings, engine)
    if initials is not None:
        own = role_of(settings, engine, initials)
        shown = [own] if own is not None else []
    if settings.team is None:
        print("no [team] section in the config: everyone may everything but report "
              "--unmask ([reports] unmask_operators)", file=err)
    print("initials\trole\tfrom", file=out)
    for line in shown:
        print(f"{line.initials}\t{line.role}\t{line.source}", file=out)
    return 0


def run_privacy_mode(config_path: Path, account: str, mode: str | None,
                     operator: str | None, out: TextIO) -> int:
    """Show the account's privacy mode and where it comes from, or set it (audited)."""
    from socialdesk.desk.privacy_mode import privacy_mode_in_force, set_privacy_mode

    settings = load_settings(config_path)
    settings.account(account)
    engine = open_configured_store(settings)
    now = system_clock()
    if mode is not None:
        by = settings.operator.for_session(operator).initials
        set_privacy_mode(settings, engine, account,
                         None if mode == BACK_TO_CONFIG else cast(PrivacyMode, mode),
                         by=by, now=now)
    shown = privacy_mode_in_force(settings, engine, account)
    when = f" at {zone_time(shown.set_at, settings.desk_zone, now)}" if shown.set_at else ""
    print(f"{account}\t{shown.mode}\t{shown.source}{when}", file=out)
    return 0
