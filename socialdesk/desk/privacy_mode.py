"""An account's privacy mode changed at run time, by a role that may (`socialdesk privacy
mode`): stored in the database, so every `run` worker's guard and every desk follow it at
their next pass without a config edit on each host; audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.config import Settings
from socialdesk.desk.roles import Permission, require
from socialdesk.rules_config import PrivacyMode
from socialdesk.store.models import AuditEntry
from socialdesk.store.privacy_modes import (
    store_privacy_mode,
    stored_privacy_mode,
    stored_privacy_override,
)


@dataclass(frozen=True)
class ModeInForce:
    """The mode the guard applies to an account, and why."""

    mode: PrivacyMode
    source: str
    """"set by AB at <time>", "the account's privacy_mode" or "[privacy] mode"."""
    set_at: datetime | None = None


def privacy_mode_in_force(settings: Settings, engine: Engine, account: str) -> ModeInForce:
    config = settings.account(account)
    with Session(engine) as session:
        stored = stored_privacy_override(session, account)
    if stored is not None:
        return ModeInForce(cast(PrivacyMode, stored.mode), f"set by {stored.set_by}",
                           stored.set_at)
    if config.privacy_mode is not None:
        return ModeInForce(config.privacy_mode, "the account's privacy_mode in the config")
    return ModeInForce(settings.privacy.mode, "[privacy] mode in the config")


def set_privacy_mode(settings: Settings, engine: Engine, account: str,
                     mode: PrivacyMode | None, *, by: str, now: datetime) -> None:
    """Store `mode` for the account (None: the config decides again), when `by` may."""
    settings.account(account)
    require(settings, engine, by, Permission.PRIVACY_MODE)
    with Session(engine) as session:
        previous = stored_privacy_mode(session, account)
        store_privacy_mode(session, account, mode, by, now)
        session.add(AuditEntry(at=now, actor=by, action="privacy.mode", target_type="account",
                               target_id=account, detail={"mode": mode, "previous": previous}))
        session.commit()
