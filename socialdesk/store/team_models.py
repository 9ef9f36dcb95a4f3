"""The tables of team mode (issue 19, migration 0013): who is at which desk, which desk holds
which conversation, the roles granted in the database, and privacy modes set at run time.

Presence and holds are stamped with the database's clock as epoch seconds
(`socialdesk.store.dbclock`), like `sync_lease`, so desks on hosts with skewed clocks agree
on who is gone. They carry no foreign key to `conversation`: the rows are news of the
moment, written and deleted all day, and a key would have every heartbeat and take
key-share-lock a conversation row for nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from socialdesk.store.models import Table


class DeskPresence(Table, table=True):
    """One row per desk session, upserted by its heartbeats; gone with `leave`, or stale after
    `PRESENCE_TTL_SECONDS` without one (and purged by the next heartbeat of any desk)."""

    __tablename__ = "desk_presence"
    __table_args__ = (Index("ix_desk_presence_seen", "seen_at"),)

    desk_id: str = Field(primary_key=True)
    initials: str
    conversation_id: int | None = None
    """The conversation open on that desk, if any."""
    typing: bool = False
    """Composing an answer in `conversation_id`."""
    seen_at: float
    """The last heartbeat, epoch seconds on the database's clock."""


class ConversationHold(Table, table=True):
    """A conversation handed out by take-next: nobody else is handed it while the holding
    desk is heard from (`heard_at`) and `expires_at` (renewed by its heartbeats) is ahead.
    One hold per conversation: the primary key is what makes two desks never get the same
    one."""

    __tablename__ = "conversation_hold"
    __table_args__ = (Index("ix_conversation_hold_desk", "desk_id"),)

    conversation_id: int = Field(primary_key=True)
    desk_id: str
    initials: str
    taken_at: float
    """Epoch seconds on the database's clock."""
    expires_at: float
    """Epoch seconds on the database's clock; renewed by the heartbeats of the desk while it
    has the conversation open."""
    heard_at: float
    """The holding desk's last heartbeat (as its presence's `seen_at`), kept on the hold so
    that whether a hold counts is read from its own row (`socialdesk.store.take_next`)."""


class TeamRole(Table, table=True):
    """A role granted with `socialdesk team role` (`socialdesk.desk.roles`); a role the config's
    `[team] roles` gives the same initials wins over this one."""

    __tablename__ = "team_role"

    initials: str = Field(primary_key=True)
    role: str
    granted_by: str
    granted_at: datetime


class PrivacyModeOverride(Table, table=True):
    """An account's privacy mode set at run time with `socialdesk privacy mode`: the guard
    reads it before the config's `privacy_mode` and `[privacy] mode`."""

    __tablename__ = "privacy_mode_override"

    account: str = Field(primary_key=True)
    """The account's name, as in the config."""
    mode: str
    set_by: str
    set_at: datetime
