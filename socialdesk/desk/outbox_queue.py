"""Queues an outgoing action once: checked against the platform's rules, deduplicated by
an idempotency key, stored `pending` in the caller's transaction for the outbox to send."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from connectors.base import ActionKind, Channel, Visibility
from socialdesk.clock import Clock
from socialdesk.errors import SocialdeskError
from socialdesk.platforms.channel_rules import ChannelRuleError
from socialdesk.platforms.registry import check_text, platform_named
from socialdesk.store.models import Conversation, OutboxAction, OutboxState


class OutboxError(SocialdeskError):
    """An action that cannot be queued or retried as asked."""

    title = "cannot send"
    exit_code = 2


@dataclass(frozen=True)
class ActionRequest:
    """What an operator action asks the outbox to do; see `OutboundAction` for the fields."""

    account_id: int
    platform: str
    kind: ActionKind
    requested_by: str
    text: str | None = None
    conversation_id: int | None = None
    target_message_id: int | None = None
    target_external_id: str | None = None
    target_channel: Channel | None = None
    recipient_id: str | None = None
    thread_key: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None


def queue(
    session: Session, request: ActionRequest, *, now: Clock
) -> tuple[OutboxAction, bool]:
    """Add the action unless one with the same idempotency key exists; True when added.

    The caller commits, so the row and its audit entry are stored together. Channel rules
    are checked first: nothing that breaks them is ever queued.
    """
    _check_rules(session, request, now())
    key = request.idempotency_key or idempotency_key(session, request)
    moment = now()
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)
    statement = insert(OutboxAction).values(
        idempotency_key=key, account_id=request.account_id, platform=request.platform,
        kind=request.kind.value, state=OutboxState.PENDING.value,
        conversation_id=request.conversation_id, target_message_id=request.target_message_id,
        target_external_id=request.target_external_id,
        target_channel=request.target_channel.value if request.target_channel else None,
        recipient_id=request.recipient_id, thread_key=request.thread_key, text=request.text,
        options=dict(request.options), requested_by=request.requested_by, attempts=0,
        created_at=moment, updated_at=moment,
    ).on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(col(OutboxAction.id))
    added = session.exec(statement).first() is not None
    row = session.exec(select(OutboxAction).where(OutboxAction.idempotency_key == key)).one()
    return row, added


def idempotency_key(session: Session, request: ActionRequest) -> str:
    """The same answer to the same message is the same action; a hide after an unhide is not."""
    parts = [str(request.account_id), request.kind.value, request.target_external_id or "",
             request.recipient_id or "", request.thread_key or "",
             " ".join((request.text or "").split())]
    if request.kind.idempotent:
        previous = session.exec(
            select(OutboxAction.id).where(
                OutboxAction.account_id == request.account_id,
                col(OutboxAction.kind).in_([ActionKind.HIDE.value, ActionKind.UNHIDE.value]),
                OutboxAction.target_external_id == request.target_external_id,
            ).order_by(col(OutboxAction.id).desc())
        ).first()
        parts.append(str(previous or 0))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def _check_rules(session: Session, request: ActionRequest, now: datetime) -> None:
    """Visibility of the conversation, text length, and the one-shot private reply."""
    kind = request.kind
    if kind.visibility is not None:
        check_text(request.platform, kind, request.text)
    if request.conversation_id is not None and kind is ActionKind.REPLY:
        conversation = session.get(Conversation, request.conversation_id)
        if conversation is not None and conversation.visibility != Visibility.PUBLIC.value:
            raise ChannelRuleError(
                f"conversation {conversation.id} is private ({conversation.channel}): "
                "a public reply would expose it; answer with a direct message"
            )
    if kind is ActionKind.PRIVATE_REPLY:
        _check_private_reply(session, request, now)


def _check_private_reply(session: Session, request: ActionRequest, now: datetime) -> None:
    platform = platform_named(request.platform)
    created = request.options.get("target_created_at")
    platform.check_private_reply(datetime.fromisoformat(created) if created else None, now)
    earlier = session.exec(
        select(OutboxAction).where(
            OutboxAction.account_id == request.account_id,
            OutboxAction.kind == ActionKind.PRIVATE_REPLY.value,
            OutboxAction.target_external_id == request.target_external_id,
            OutboxAction.state != OutboxState.FAILED.value,
        )
    ).first()
    if earlier is not None and earlier.text != request.text:
        raise ChannelRuleError(
            f"{platform.display_name} allows one private reply per comment, and outbox "
            f"action {earlier.id} is already it ({earlier.state})"
        )
