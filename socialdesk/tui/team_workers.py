"""Thread workers of team mode: heartbeats, take next, who else is on a conversation and
whether the operator may do what they asked. As every worker (`tui.workers`), each posts
one past-tense message and touches no widget."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.message_pump import MessagePump

from socialdesk.desk.colleagues import answer_mark, colleagues_on
from socialdesk.desk.roles import Permission, require, role_allows, team_roles
from socialdesk.errors import PermissionDenied
from socialdesk.store.team import heartbeat, holds, leave, present, take_next
from socialdesk.tui.messages import (
    ColleaguesChecked,
    ConversationTaken,
    PermissionChecked,
    PresenceFailed,
    PresenceRead,
)
from socialdesk.tui.presence_text import Colleagues
from socialdesk.tui.workers import read_conversation

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

    from socialdesk.config import Settings
    from socialdesk.store.queries.queue import InboxFilter
    from socialdesk.tui.presence import Where


def send_heartbeat(target: MessagePump, engine: Engine, desk_id: str, initials: str,
                   where: Where | None, lock: threading.Lock) -> None:
    """Store where this desk is (with `where` None, an idle desk: nothing) and read the
    other desks and what they took back. A failure is posted, not raised: the next
    heartbeat tries again."""
    try:
        with lock:
            if where is not None:
                heartbeat(engine, desk_id, initials, conversation_id=where.conversation_id,
                          typing=where.typing)
            others = [desk for desk in present(engine) if desk.desk_id != desk_id]
            held = {conversation_id: desk.initials
                    for conversation_id, desk in holds(engine).items()
                    if desk.desk_id != desk_id}
    except Exception as error:  # noqa: BLE001  (a lost database: the desk goes on without)
        target.post_message(PresenceFailed(str(error) or type(error).__name__))
        return
    target.post_message(PresenceRead(Colleagues(others, held)))


def leave_desk(engine: Engine, desk_id: str, lock: threading.Lock) -> None:
    """The presence row and the holds go; a store that cannot be reached is left to
    expire them (`PRESENCE_TTL_SECONDS`, `HOLD_SECONDS`): quitting never fails."""
    try:
        with lock:
            leave(engine, desk_id)
    except Exception:  # noqa: BLE001, S110  (quitting: nobody is left to tell)
        pass


def take_conversation(target: MessagePump, engine: Engine, desk_id: str, initials: str,
                      inbox: InboxFilter | None, previous: int | None, now: datetime) -> None:
    """The longest-waiting conversation nobody holds within `inbox` (late ones compared
    with the desk's clock, `now`), now held for this desk, read for the conversation
    screen. The one this desk took before (`previous`) goes back to the team: a desk holds
    the one it is working on."""
    taken = take_next(engine, desk_id, initials, inbox=inbox, now=now, give_back=previous)
    content = read_conversation(engine, taken) if taken is not None else None
    target.post_message(ConversationTaken(content))


def check_colleagues(target: MessagePump, engine: Engine, conversation_id: int,
                     desk_id: str, private: bool) -> None:
    """Before `r`/`p`: who else types in or holds the conversation, and where it stands."""
    target.post_message(ColleaguesChecked(colleagues_on(engine, conversation_id, desk_id),
                                          answer_mark(engine, conversation_id), private))


def check_permission(target: MessagePump, settings: Settings | None, engine: Engine,
                     initials: str, permission: Permission) -> None:
    """Whether `initials` may `permission` (`desk.roles`); a refusal carries who may."""
    try:
        allowed_to(settings, engine, initials, permission)
    except PermissionDenied as refused:
        target.post_message(PermissionChecked(permission.value, refused.message))
        return
    target.post_message(PermissionChecked(permission.value, None))


def allowed_to(settings: Settings | None, engine: Engine, initials: str,
               permission: Permission) -> None:
    """`roles.require`, whose refusal gains who may (`who_may`). A desk without a config
    (the demo, tests) has no roles to check: one manager, who may everything."""
    if settings is None:
        return
    try:
        require(settings, engine, initials, permission)
    except PermissionDenied as refused:
        raise PermissionDenied(f"{refused.message}. {who_may(settings, engine, permission)}"
                               ) from refused


def who_may(settings: Settings, engine: Engine, permission: Permission) -> str:
    """`Who may: CD, EF (role lead)`: the people to turn to, from the config's roles and
    the database's, and the roles that may."""
    team = settings.team
    roles = sorted(role for role in team.permissions if team.may(role, permission)) \
        if team is not None else []
    if not roles:  # nobody to name: the roles stored in the database are not read
        return "No role in [team.permissions] may"
    people = [role.initials for role in team_roles(settings, engine)
              if role_allows(settings, role.initials, role, permission)]
    named = f"role {' or '.join(roles)}"
    return f"Who may: {', '.join(people)} ({named})" if people else f"Who may: {named}"
