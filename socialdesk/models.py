"""The tables of the store. Every datetime is aware UTC; every platform id is text.

Constraints and indexes are named here and only here, so Alembic and `ON CONFLICT`
can refer to them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utc_now() -> datetime:
    return datetime.now(UTC)


class Status(StrEnum):
    """Red, yellow, green on every screen (seed 004)."""

    NEW = "new"
    OPEN = "open"
    RESOLVED = "resolved"


class Health(StrEnum):
    OK = "ok"
    UNHEALTHY = "unhealthy"


class Account(SQLModel, table=True):
    """A platform account from config, mirrored so messages and cursors can refer to it."""

    __table_args__ = (UniqueConstraint("name", name="uq_account_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    platform: str
    health: str = Field(default=Health.OK.value)
    health_reason: str | None = None
    rate_limited_until: datetime | None = None
    created_at: datetime = Field(default_factory=utc_now)


class SyncCursor(SQLModel, table=True):
    """Where a stream's last completed pull stopped, written with the items it covers."""

    __tablename__ = "sync_cursor"
    __table_args__ = (UniqueConstraint("account_id", "stream", name="uq_sync_cursor_stream"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    stream: str
    cursor: str | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    rate_limited_until: datetime | None = None


class SyncLease(SQLModel, table=True):
    """Who is pulling an account now; keeps cron `sync` and `run` from pulling twice.

    `expires_at` is epoch seconds from the database clock, so hosts with skewed clocks agree.
    """

    __tablename__ = "sync_lease"

    name: str = Field(primary_key=True)
    owner: str | None = None
    expires_at: float = 0.0


class Contact(SQLModel, table=True):
    """The customer card: one person, with one handle per platform account they use."""

    __table_args__ = (UniqueConstraint("origin", name="uq_contact_origin"),)

    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = None
    origin: str | None = None
    """`platform:user id` of the handle the card was created for; survives merges."""
    merged_into_id: int | None = Field(default=None, foreign_key="contact.id")
    created_at: datetime = Field(default_factory=utc_now)


class Handle(SQLModel, table=True):
    """A contact's identity on one platform; merging contacts moves handles, not messages."""

    __table_args__ = (
        UniqueConstraint("platform", "external_user_id", name="uq_handle_platform_user"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    platform: str
    external_user_id: str
    username: str | None = None
    display_name: str | None = None


class Conversation(SQLModel, table=True):
    """One thread of work: a public post and its replies, a DM or a Messenger conversation."""

    __table_args__ = (
        UniqueConstraint("account_id", "thread_key", name="uq_conversation_thread"),
        Index("ix_conversation_status_last_inbound", "status", "last_inbound_at"),
        Index("ix_conversation_last_message", "last_message_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    channel: str
    visibility: str
    thread_key: str
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    status: str = Field(default=Status.NEW.value)
    assignee: str | None = None
    opened_at: datetime | None = None
    """First inbound message: the start of first-response time."""
    first_response_at: datetime | None = None
    """First outbound message after `opened_at`."""
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    last_message_at: datetime | None = None
    resolved_at: datetime | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class Message(SQLModel, table=True):
    """A message as the platform gave it, inbound or outbound, with its raw payload."""

    __table_args__ = (
        UniqueConstraint("platform", "external_id", name="uq_message_platform_external_id"),
        Index("ix_message_conversation_created", "conversation_id", "created_at"),
        Index("ix_message_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    conversation_id: int = Field(foreign_key="conversation.id")
    platform: str
    external_id: str
    parent_external_id: str | None = None
    channel: str
    visibility: str
    direction: str
    author_external_id: str | None = None
    author_handle: str | None = None
    author_name: str | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    ingested_at: datetime = Field(default_factory=utc_now)
    has_pii: bool = False
    pii_types: str | None = None
    """Comma-separated entity types found (never the values)."""
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Note(SQLModel, table=True):
    """An operator's note on a conversation or a contact, signed with initials (seed 004)."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int | None = Field(default=None, foreign_key="conversation.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    initials: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utc_now)


class QuarantineEntry(SQLModel, table=True):
    """A payload a connector could not parse, kept whole for a human or a later fix."""

    __tablename__ = "quarantine"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    stream: str
    external_id: str | None = None
    reason: str
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=utc_now)


class AuditEntry(SQLModel, table=True):
    """Who did what, when: operators and automatic actions alike."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now, index=True)
    actor: str
    action: str
    target_type: str | None = None
    target_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
