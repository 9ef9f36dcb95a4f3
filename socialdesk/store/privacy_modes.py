"""Privacy modes set at run time (`socialdesk privacy mode ACCOUNT MODE`): stored per account,
read by the guard and the desk before the config's `privacy_mode` and `[privacy] mode`,
so a team changes the mode for every `run` worker and desk without editing each host's
config file."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlmodel import Session, select

from socialdesk.config import AccountConfig
from socialdesk.rules_config import PrivacyMode
from socialdesk.store.team_models import PrivacyModeOverride


def stored_privacy_mode(session: Session, account: str) -> PrivacyMode | None:
    """The mode stored for the account, or None when the config decides."""
    mode = session.exec(select(PrivacyModeOverride.mode)
                        .where(PrivacyModeOverride.account == account)).first()
    return cast(PrivacyMode, mode) if mode is not None else None


def stored_privacy_override(session: Session, account: str) -> PrivacyModeOverride | None:
    """The whole stored row: who set the mode and when, for `socialdesk privacy mode`."""
    return session.get(PrivacyModeOverride, account)


def with_stored_mode(session: Session, config: AccountConfig) -> AccountConfig:
    """The account's config as the guard must read it: its `privacy_mode` replaced by the
    stored mode, when one is stored."""
    mode = stored_privacy_mode(session, config.name)
    return config if mode is None else config.model_copy(update={"privacy_mode": mode})


def store_privacy_mode(session: Session, account: str, mode: PrivacyMode | None, by: str,
                       now: datetime) -> None:
    """Store `mode` for the account, or drop the stored one (None: the config decides again),
    in the session's transaction, which the caller commits with its audit entry."""
    row = session.get(PrivacyModeOverride, account)
    if mode is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = PrivacyModeOverride(account=account, mode=mode, set_by=by, set_at=now)
    else:
        row.mode, row.set_by, row.set_at = mode, by, now
    session.add(row)
