"""The operator actions that answer customers: reply, send privately, hide; each audited.

These decide *what* to send and on which channel, from the conversation and the contact's
handles, and queue it through the outbox; they never call a platform themselves. The TUI
and the CLI call them, then dispatch (`outbox.send_now`) or leave it to the next sync.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from connectors.base import ActionKind, Channel, Direction, Visibility
from socialdesk.clock import Clock
from socialdesk.config import Settings
from socialdesk.desk.outbox_queue import ActionRequest, OutboxError, queue
from socialdesk.platforms.channel_rules import ChannelRuleError
from socialdesk.platforms.contract import Platform
from socialdesk.platforms.registry import platform_named
from socialdesk.store.models import (
    Account,
    AuditEntry,
    Conversation,
    ExposureOutcome,
    Handle,
    Message,
    OutboxAction,
    PrivacyExposure,
    PrivacyState,
)
from socialdesk.store.privacy_modes import stored_privacy_mode


class PublicAnswerHeld(ChannelRuleError):
    """A public answer to a conversation whose personal data the privacy guard has not
    redirected yet: an answer there would draw eyes to the post before it is dealt with."""

    title = "held for the privacy redirect"

    def __init__(self, conversation_id: int, types: str) -> None:
        super().__init__(
            f"conversation {conversation_id} shows {types} in public and is not redirected "
            "yet: redirect it first (g in the desk), or answer with --public-anyway "
            "(audited with your initials)")
        self.conversation_id = conversation_id
        self.types = types


def undecided_exposure(engine: Engine, conversation_id: int) -> str | None:
    """The kinds of personal data this conversation shows in public that the privacy
    guard has neither redirected nor been told to leave (a suggestion waiting, or a
    message it has not looked at yet); None when a public answer may go."""
    with Session(engine) as session:
        return _undecided_types(session, conversation_id)


def reply(
    engine: Engine, conversation_id: int, text: str, operator: str, *,
    settings: Settings | None = None, automated: bool = False, public_anyway: bool = False,
    now: Clock,
) -> OutboxAction:
    """Queue an answer on the conversation's own channel, to its newest customer message.

    A public conversation gets a public reply, a private one a direct message: never the
    other way round. A public reply waits while personal data shown there is not
    redirected (`undecided_exposure`), unless `public_anyway`, which is audited.

    Args:
        engine: the store.
        conversation_id: the conversation answered.
        text: the answer, within the channel's length limit.
        operator: initials or name of who answers (audited).
        settings: config, for the account's feature flags (answering by hand later).
        automated: True for replies no human wrote (never sent with HUMAN_AGENT).
        public_anyway: answer in public although the redirect waits (audited).

    Returns:
        the outbox row (an existing one when the same answer was queued before).

    Raises:
        OutboxError: no such conversation, or nothing from the customer to answer.
        PublicAnswerHeld: public, with personal data not redirected, not `public_anyway`.
        ChannelRuleError: too long, or outside the platform's window; nothing was queued.
    """
    operator = _operator(operator)
    with Session(engine, expire_on_commit=False) as session:
        conversation = _conversation(session, conversation_id)
        account = _account(session, conversation.account_id)
        target = _latest_inbound(session, conversation)
        if conversation.visibility == Visibility.PUBLIC.value:
            held = None if _guard_off(session, settings, account) else _undecided_types(
                session, conversation_id)
            if held is not None and not public_anyway:
                raise PublicAnswerHeld(conversation_id, held)
            if held is not None:
                session.add(AuditEntry(
                    at=now(), actor=operator, action="reply.public_anyway",
                    target_type="conversation", target_id=str(conversation_id),
                    detail={"types": held.split(", ")}))
            request = ActionRequest(
                account.id or 0, account.platform, ActionKind.REPLY, operator, text,
                conversation.id, target.id, target.external_id, Channel(target.channel),
                thread_key=conversation.thread_key,
            )
        else:
            request = _direct_message(account, conversation, target, text, operator,
                                      _human_agent(settings, account) and not automated, now())
        return _queue_audited(session, request, "reply", "conversation", conversation.id, now)


def send_private(
    engine: Engine, contact_id: int, text: str, operator: str, *,
    conversation_id: int | None = None, settings: Settings | None = None,
    automated: bool = False, now: Clock,
) -> OutboxAction:
    """Queue a private message to a customer on their platform's private channel: a direct
    message (at any time, or inside the platform's window), or else the platform's one
    private reply to their newest public message.

    Args:
        contact_id: the customer card.
        conversation_id: the conversation this is about (default: the contact's newest).
        Others as `reply`.

    Raises:
        OutboxError: the contact has no conversation or handle to write to.
        ChannelRuleError: no private channel is open (the direct-message window and the
            private-reply window both passed, a private reply already sent); nothing was
            queued.
    """
    operator = _operator(operator)
    with Session(engine, expire_on_commit=False) as session:
        request = _private_request(session, contact_id, text, operator, conversation_id,
                                   settings, automated, now())
        return _queue_audited(session, request, "send_private", "contact", contact_id, now)


def private_channel(
    engine: Engine, contact_id: int, *, conversation_id: int | None = None,
    settings: Settings | None = None, automated: bool = False, now: Clock,
) -> ActionKind:
    """The kind `send_private` would queue now, by the same rule, queueing nothing:
    `DIRECT_MESSAGE` or `PRIVATE_REPLY` (the one private reply to a public message, on
    platforms that have it). Arguments as `send_private`.

    Raises:
        OutboxError, ChannelRuleError: as `send_private` when no private channel is open.
    """
    with Session(engine) as session:
        return _private_request(session, contact_id, "", "(preview)", conversation_id,
                                settings, automated, now()).kind


def hide(
    engine: Engine, message_id: int, operator: str, *, now: Clock, hidden: bool = True
) -> OutboxAction:
    """Queue hiding (or, with `hidden=False`, unhiding) a customer's public message.

    Raises:
        OutboxError: no such message.
        ChannelRuleError: the message is private or the account's own.
    """
    operator = _operator(operator)
    with Session(engine, expire_on_commit=False) as session:
        message = session.get(Message, message_id)
        if message is None:
            raise OutboxError(f"no message {message_id}")
        if message.visibility != Visibility.PUBLIC.value:
            raise ChannelRuleError("only public messages can be hidden; this one is private")
        if message.direction != Direction.INBOUND.value:
            raise ChannelRuleError("the account's own messages are not hidden; delete them instead")
        kind = ActionKind.HIDE if hidden else ActionKind.UNHIDE
        request = ActionRequest(
            message.account_id, message.platform, kind, operator,
            conversation_id=message.conversation_id, target_message_id=message.id,
            target_external_id=message.external_id, target_channel=Channel(message.channel),
        )
        return _queue_audited(session, request, kind.value, "message", message_id, now)


def unhide(engine: Engine, message_id: int, operator: str, *, now: Clock) -> OutboxAction:
    """Queue unhiding a message hidden before."""
    return hide(engine, message_id, operator, now=now, hidden=False)


# --- choosing the channel -------------------------------------------------------------------


def _private_request(
    session: Session, contact_id: int, text: str, operator: str, conversation_id: int | None,
    settings: Settings | None, automated: bool, now: datetime,
) -> ActionRequest:
    """What `send_private` queues: the one rule `private_channel` also answers from."""
    origin = _origin_conversation(session, contact_id, conversation_id)
    account = _account(session, origin.account_id)
    platform = platform_named(account.platform)
    if platform.messages_first:
        return _message_handle(session, account, platform, contact_id, text, operator)
    human = _human_agent(settings, account) and not automated
    return _answer_privately(session, account, platform, contact_id, origin, text, operator,
                             human, now)


def _direct_message(
    account: Account, conversation: Conversation, target: Message, text: str, operator: str,
    human: bool, now: datetime,
) -> ActionRequest:
    last = conversation.last_inbound_at or target.created_at
    options = platform_named(account.platform).direct_message_options(now - last, human)
    return ActionRequest(
        account.id or 0, account.platform, ActionKind.DIRECT_MESSAGE, operator, text,
        conversation.id, target.id, target.external_id, Channel(target.channel),
        recipient_id=target.author_external_id, thread_key=conversation.thread_key,
        options=options,
    )


def _message_handle(
    session: Session, account: Account, platform: Platform, contact_id: int, text: str,
    operator: str,
) -> ActionRequest:
    """A direct message to the contact's handle on the platform, open conversation or not."""
    handle = session.exec(
        select(Handle).where(Handle.contact_id == contact_id, Handle.platform == platform.name)
    ).first()
    if handle is None:
        raise OutboxError(f"contact {contact_id} has no {platform.display_name} handle to send "
                          "a direct message to")
    dm = _contact_conversation(session, account, contact_id, platform.private_channel)
    return ActionRequest(
        account.id or 0, platform.name, ActionKind.DIRECT_MESSAGE, operator, text,
        dm.id if dm else None, recipient_id=handle.external_user_id,
        thread_key=dm.thread_key if dm else None,
    )


def _answer_privately(
    session: Session, account: Account, platform: Platform, contact_id: int,
    origin: Conversation, text: str, operator: str, human: bool, now: datetime,
) -> ActionRequest:
    """The private conversation when its window is open, else the private reply to the
    newest public message, within the platform's private-reply window."""
    private = _contact_conversation(session, account, contact_id, platform.private_channel)
    if private is not None and private.last_inbound_at is not None:
        try:
            target = _latest_inbound(session, private)
            return _direct_message(account, private, target, text, operator, human, now)
        except ChannelRuleError:
            pass
    public = origin if origin.visibility == Visibility.PUBLIC.value else None
    commented = _latest_inbound(session, public) if public else None
    window = platform.private_reply_window
    if commented is None or window is None or now - commented.created_at > window:
        raise ChannelRuleError(platform.no_private_channel())
    return ActionRequest(
        account.id or 0, platform.name, ActionKind.PRIVATE_REPLY, operator, text,
        public.id if public else None, commented.id, commented.external_id,
        Channel(commented.channel), recipient_id=commented.author_external_id,
        options={"target_created_at": commented.created_at.isoformat()},
    )


# --- lookups and audit ----------------------------------------------------------------------


def _queue_audited(
    session: Session, request: ActionRequest, action: str, target_type: str,
    target_id: int | None, now: Clock,
) -> OutboxAction:
    """The outbox row and who asked for it, committed together."""
    row, added = queue(session, request, now=now)
    session.add(AuditEntry(
        at=now(), actor=request.requested_by, action=action, target_type=target_type,
        target_id=str(target_id),
        detail={"outbox_action_id": row.id, "kind": request.kind.value, "queued": added,
                "platform": request.platform, "characters": len(request.text or "")},
    ))
    session.commit()
    return row


def _undecided_types(session: Session, conversation_id: int) -> str | None:
    waiting = session.exec(
        select(PrivacyExposure.types).where(
            PrivacyExposure.conversation_id == conversation_id,
            col(PrivacyExposure.outcome) == ExposureOutcome.SUGGESTED)
    ).all()
    unseen = session.exec(
        select(Message.pii_types).where(
            Message.conversation_id == conversation_id,
            col(Message.privacy_state) == PrivacyState.UNDECIDED)
    ).all()
    if not waiting and not unseen:
        return None
    kinds = sorted({kind for types in (*waiting, *unseen) if types
                    for kind in types.split(",") if kind})
    return ", ".join(kinds) or "personal data"


def _operator(operator: str) -> str:
    cleaned = operator.strip()
    if not cleaned:
        raise OutboxError("say who is acting (initials): every action is audited")
    return cleaned


def _conversation(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise OutboxError(f"no conversation {conversation_id}")
    return conversation


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise OutboxError(f"no account {account_id}")
    return account


def _latest_inbound(session: Session, conversation: Conversation) -> Message:
    """The customer's newest message: the one a reply answers (X: the post that mentioned us)."""
    message = session.exec(
        select(Message)
        .where(Message.conversation_id == conversation.id,
               Message.direction == Direction.INBOUND.value)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
    ).first()
    if message is None:
        raise OutboxError(f"conversation {conversation.id} has no customer message to answer")
    return message


def _origin_conversation(
    session: Session, contact_id: int, conversation_id: int | None
) -> Conversation:
    if conversation_id is not None:
        conversation = _conversation(session, conversation_id)
        if conversation.contact_id != contact_id:
            raise OutboxError(f"conversation {conversation_id} is not contact {contact_id}'s")
        return conversation
    newest = session.exec(
        select(Conversation).where(Conversation.contact_id == contact_id)
        .order_by(col(Conversation.last_inbound_at).desc(), col(Conversation.id).desc())
    ).first()
    if newest is None:
        raise OutboxError(f"contact {contact_id} has no conversation to answer privately")
    return newest


def _contact_conversation(
    session: Session, account: Account, contact_id: int, channel: Channel
) -> Conversation | None:
    return session.exec(
        select(Conversation).where(
            Conversation.account_id == account.id, Conversation.contact_id == contact_id,
            Conversation.channel == channel.value,
        ).order_by(col(Conversation.last_inbound_at).desc())
    ).first()


def _guard_off(session: Session, settings: Settings | None, account: Account) -> bool:
    """The account's privacy guard is `off`: nothing will redirect, so nothing waits."""
    if settings is None:
        return False
    config = next((a for a in settings.accounts if a.name == account.name), None)
    mode = (stored_privacy_mode(session, account.name)
            or (config.privacy_mode if config else None) or settings.privacy.mode)
    return mode == "off"


def _human_agent(settings: Settings | None, account: Account) -> bool:
    if settings is None:
        return False
    config = next((a for a in settings.accounts if a.name == account.name), None)
    return config is not None and platform_named(config.platform).human_agent(config)
