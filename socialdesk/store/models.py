"""The tables of the store. Every datetime is aware UTC; every platform id is text.

No time column has a default: every write stamps the time of the caller's clock
(`socialdesk.clock`), so a forgotten stamp fails loudly instead of reading the wall clock.

Constraints and indexes are named here and only here, so Alembic and `ON CONFLICT`
can refer to them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, false
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from connectors.base import ActionKind, Direction
from socialdesk.store.enum_column import StoredEnum

ACKNOWLEDGEMENT_ACTOR = "socialdesk.ack"
"""Who sends the automatic acknowledgements: their messages are stored as `automated`."""


class Table(SQLModel):
    """The base of every table. Pydantic's validator for a table is built when first used,
    not at import: rows are made by SQLAlchemy and by our own code, never validated, and
    building twelve validators was a tenth of the time to the desk's first screen."""

    model_config = {"defer_build": True}


class Status(StrEnum):
    """Red, yellow, green on every screen (seed 004)."""

    NEW = "new"
    OPEN = "open"
    RESOLVED = "resolved"


class Health(StrEnum):
    """An account's health on the dashboard: an expired token makes it unhealthy."""

    OK = "ok"
    UNHEALTHY = "unhealthy"


class Account(Table, table=True):
    """A platform account from config, mirrored so messages and cursors can refer to it."""

    __table_args__ = (UniqueConstraint("name", name="uq_account_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    platform: str
    health: Health = Field(default=Health.OK, sa_type=StoredEnum(Health))
    health_reason: str | None = None
    rate_limited_until: datetime | None = None
    created_at: datetime


class SyncCursor(Table, table=True):
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
    rate_budget: str | None = None
    """Every rate-limit window the last page's headers named, as JSON
    (`socialdesk.service.pacing`)."""


class SyncLease(Table, table=True):
    """Who is pulling an account now; keeps cron `sync` and `run` from pulling twice.

    `expires_at` is epoch seconds from the database clock, so hosts with skewed clocks agree.
    `owner` is `host:pid:process start:random` (`socialdesk.store.lease`), so a dead holder on the
    same host is recognised at once.
    """

    __tablename__ = "sync_lease"

    name: str = Field(primary_key=True)
    owner: str | None = None
    expires_at: float = 0.0


class Contact(Table, table=True):
    """The customer card: one person, with one handle per platform account they use."""

    __table_args__ = (UniqueConstraint("origin", name="uq_contact_origin"),)

    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = None
    origin: str | None = None
    """`platform:user id` of the handle the card was created for; survives merges."""
    merged_into_id: int | None = Field(default=None, foreign_key="contact.id")
    created_at: datetime
    verified_at: datetime | None = None
    """When an operator confirmed who this person is (seed 000); None: not verified."""
    verified_by: str | None = None
    verified_method: str | None = None
    """How: a code sent to the e-mail on file, a call-back, an order lookup... (privacy guard)."""


class Handle(Table, table=True):
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


WAITING_FOR_ANSWER = sql_text(
    "status IN ('new', 'open') AND last_inbound_at IS NOT NULL "
    "AND (last_outbound_at IS NULL OR last_outbound_at < last_inbound_at)")
"""Take-next's candidates (`socialdesk.store.team`), a partial index's condition (0013):
its scan skips the open conversations that wait for the customer, not for us."""


class Conversation(Table, table=True):
    """One thread of work: a public post and its replies, or a private conversation."""

    __table_args__ = (
        UniqueConstraint("account_id", "thread_key", name="uq_conversation_thread"),
        Index("ix_conversation_status_last_inbound", "status", "last_inbound_at"),
        Index("ix_conversation_last_message", "last_message_at"),
        Index("ix_conversation_first_response_due", "first_response_due_at"),  # migration 0003
        # Keyset paging of the TUI queue: one index per filter, ending with the sort column
        # (migration 0004).
        Index("ix_conversation_status_last_message", "status", "last_message_at"),
        Index("ix_conversation_channel_last_message", "channel", "last_message_at"),
        Index("ix_conversation_account_last_message", "account_id", "last_message_at"),
        Index("ix_conversation_assignee_last_message", "assignee", "last_message_at"),
        Index("ix_conversation_last_inbound", "last_inbound_at"),
        Index("ix_conversation_updated", "updated_at"),
        # the queue's "late" filter, counted from the index alone
        Index("ix_conversation_status_due", "status", "first_response_due_at", "last_outbound_at",
              "sla_started_at", "last_message_at", "last_inbound_at"),
        Index("ix_conversation_opened", "opened_at", "first_response_at"),  # migration 0006
        Index("ix_conversation_waiting_for_answer", "last_inbound_at", "id",  # migration 0013
              sqlite_where=WAITING_FOR_ANSWER, postgresql_where=WAITING_FOR_ANSWER),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    channel: str
    visibility: str
    thread_key: str
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    status: Status = Field(default=Status.NEW, sa_type=StoredEnum(Status))
    assignee: str | None = None
    opened_at: datetime | None = None
    """First inbound message: the start of first-response time."""
    first_response_at: datetime | None = None
    """First outbound message after `opened_at`."""
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    last_message_at: datetime | None = None
    resolved_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    sla_started_at: datetime | None = None
    """The inbound message the SLA clock counts from: the first, or the one that reopened it."""
    first_response_due_at: datetime | None = None
    """`sla_started_at` plus `[sla] first_response_minutes` of business time."""
    redirected_at: datetime | None = None
    """The privacy guard moved this public conversation to a private one (migration 0005)."""
    redirected_to_id: int | None = Field(default=None, foreign_key="conversation.id")
    """The private conversation the customer was moved to, once it is known."""


class PrivacyState(StrEnum):
    """Where an inbound public message with personal data stands with the privacy guard.

    Written at ingest in the message's own INSERT, so a crash between storing a page and
    guarding it leaves the message `undecided` and the next pass finds it (migration 0008).
    """

    UNDECIDED = "undecided"
    """Stored, not yet looked at by the guard."""
    DECIDED = "decided"
    """The guard recorded its exposure and plan, or found nothing to do."""


UNDECIDED_ONLY = sql_text(f"privacy_state = '{PrivacyState.UNDECIDED.value}'")
"""The partial index's condition: the guard's lookup reads only the few undecided rows."""


class Message(Table, table=True):
    """A message as the platform gave it, inbound or outbound, with its raw payload."""

    __table_args__ = (
        UniqueConstraint("platform", "external_id", name="uq_message_platform_external_id"),
        Index("ix_message_conversation_created", "conversation_id", "created_at"),
        Index("ix_message_created", "created_at"),
        Index("ix_message_privacy_undecided", "account_id", "id",
              sqlite_where=UNDECIDED_ONLY, postgresql_where=UNDECIDED_ONLY),  # migration 0008
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    conversation_id: int = Field(foreign_key="conversation.id")
    platform: str
    external_id: str
    parent_external_id: str | None = None
    channel: str
    visibility: str
    direction: Direction = Field(sa_type=StoredEnum(Direction))
    author_external_id: str | None = None
    author_handle: str | None = None
    author_name: str | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    ingested_at: datetime
    has_pii: bool = False
    automated: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    """Ours, but written by no person (acknowledgement, privacy pointer): not an answer."""
    pii_types: str | None = None
    """Comma-separated entity types found (never the values)."""
    pii_spans: list[list[Any]] | None = Field(default=None, sa_column=Column(JSON))
    """`[start, end, type]` of each entity found at ingest: offsets only, never values, so
    lists and reports mask without running the detector again."""
    privacy_state: PrivacyState | None = Field(default=None, sa_type=StoredEnum(PrivacyState))
    """`PrivacyState` of an inbound public message with personal data; None for the rest."""
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DetectionScan(Table, table=True):
    """Which detector settings found an account's stored spans (migration 0012).

    `fingerprint` is `socialdesk.privacy.detector_settings.settings_fingerprint` of the
    `[privacy]` settings in force when the spans were found: when the config's differs, the
    desk, the reports and the guard would read spans the detector no longer finds, so
    `doctor`, `sync` and the desk say to run `socialdesk privacy rescan`, which writes it.
    """

    __tablename__ = "detection_scan"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    fingerprint: str
    scanned_at: datetime


class Note(Table, table=True):
    """An operator's note on a conversation or a contact, signed with initials (seed 004)."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int | None = Field(default=None, foreign_key="conversation.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    initials: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


class QuarantineEntry(Table, table=True):
    """A payload a connector could not parse, kept whole for a human and for a later
    connector that can read it: every pass re-reads the waiting ones
    (`socialdesk.store.quarantine`).

    One row per item: `fingerprint` is its platform id, or a hash of its body when it has
    none, so an item set aside on every pass counts `attempts` instead of adding rows.
    `resolved_at` is set once the item is stored (re-read, or pulled whole later).
    """

    __tablename__ = "quarantine"
    __table_args__ = (
        UniqueConstraint("account_id", "stream", "fingerprint", name="uq_quarantine_item"),
        Index("ix_quarantine_waiting", "resolved_at", "account_id", "stream"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    stream: str
    external_id: str | None = None
    fingerprint: str
    reason: str
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime
    """When it was first set aside."""
    last_attempt_at: datetime
    """When it was last read and failed (set aside again, or re-read by a pass)."""
    attempts: int = 1
    resolved_at: datetime | None = None


class AuditEntry(Table, table=True):
    """Who did what, when: operators and automatic actions alike."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str
    action: str
    target_type: str | None = None
    target_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OutboxState(StrEnum):
    """pending -> sending -> sent | failed | unknown; unknown waits for a human."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"


class OutboxAction(Table, table=True):
    """One outgoing action, written before anything is sent, so no answer is lost or doubled.

    `idempotency_key` makes queuing the same action twice a no-op; `external_id` is the
    platform's id of what was sent, recorded with the outbound `Message` in one transaction.
    """

    __tablename__ = "outbox_action"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_outbox_action_idempotency_key"),
        Index("ix_outbox_action_state_due", "state", "next_attempt_at"),
        Index("ix_outbox_action_target", "account_id", "kind", "target_external_id"),
        Index("ix_outbox_action_conversation", "conversation_id"),  # migration 0014
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str
    account_id: int = Field(foreign_key="account.id")
    platform: str
    kind: ActionKind = Field(sa_type=StoredEnum(ActionKind))
    state: OutboxState = Field(default=OutboxState.PENDING, sa_type=StoredEnum(OutboxState))
    conversation_id: int | None = Field(default=None, foreign_key="conversation.id")
    target_message_id: int | None = Field(default=None, foreign_key="message.id")
    target_external_id: str | None = None
    target_channel: str | None = None
    recipient_id: str | None = None
    thread_key: str | None = None
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """Platform send options (a message type, a tag), decided when the action was queued."""
    requested_by: str
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    next_attempt_at: datetime | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    external_id: str | None = None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None


class ExposureOutcome(StrEnum):
    """Where the privacy guard's plan for one exposure stands."""

    SUGGESTED = "suggested"
    """Waits for an operator (suggest mode); `plan` holds the actions."""
    QUEUED = "queued"
    """Taken on: its actions are being queued and sent, or wait for the next pass."""
    DONE = "done"
    PARTIAL = "partial"
    """Some actions went out, some failed."""
    FAILED = "failed"
    DISMISSED = "dismissed"
    """An operator declined the suggestion."""


class PrivacyExposure(Table, table=True):
    """Personal data seen in a public message: which types and when, never the values.

    One row per message. `outcome` follows the guard: `suggested` (waits for an operator,
    `plan` holds the actions), `queued`, `done`, `partial` or `failed` once the actions ran,
    `dismissed` when an operator declined the suggestion.
    """

    __tablename__ = "privacy_exposure"
    __table_args__ = (
        UniqueConstraint("message_id", name="uq_privacy_exposure_message"),
        Index("ix_privacy_exposure_conversation", "conversation_id", "detected_at"),
        Index("ix_privacy_exposure_outcome", "outcome"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    message_id: int = Field(foreign_key="message.id")
    types: str
    """Comma-separated entity types, e.g. `IBAN,PHONE`."""
    detected_at: datetime
    mode: str
    outcome: ExposureOutcome = Field(sa_type=StoredEnum(ExposureOutcome))
    language: str | None = None
    plan: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """The planned actions (purpose, kind, target, text) with their outbox ids once queued."""
    resolved_by: str | None = None
    resolved_at: datetime | None = None
