"""Runs the privacy guard after a pull: records exposures, queues and sends the redirect.

`privacy.policy` decides (a pure function); this module is the orchestration around it:
it reads the new public messages with personal data, stores one `PrivacyExposure` per
message (types and time, never values), and in `auto` mode queues the planned actions
through the outbox and sends them in order: hide first, then the private message, then
the public pointer, whose text on X depends on whether the DM went out. In `suggest`
mode the plan waits in the exposure row until an operator accepts or dismisses it.
Every automatic step writes an `AuditEntry`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from connectors.base import ActionKind, Channel, Direction, Visibility
from socialdesk.clock import Clock
from socialdesk.config import FacebookAccount, Settings, XAccount
from socialdesk.errors import SocialdeskError
from socialdesk.models import (
    Account,
    AuditEntry,
    Conversation,
    Message,
    OutboxAction,
    OutboxState,
    PrivacyExposure,
)
from socialdesk.outbox import ActionRequest, queue, send_now
from socialdesk.privacy.detect import Detector
from socialdesk.privacy.policy import (
    PlannedAction,
    PublicPost,
    Purpose,
    RedirectPlan,
    effective_mode,
    plan_redirect,
)

log = logging.getLogger(__name__)

GUARD_ACTOR = "privacy-guard"
"""The audit log's actor for everything the guard does on its own."""

SUGGESTED = "suggested"
QUEUED = "queued"
DONE = "done"
PARTIAL = "partial"
FAILED = "failed"
DISMISSED = "dismissed"

_IF_DM_REFUSED = "if_dm_refused"


class GuardError(SocialdeskError):
    title = "privacy guard"
    exit_code = 2


@dataclass
class GuardReport:
    """What one guard pass found and did for one account."""

    exposures: list[int] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)
    suggested: list[int] = field(default_factory=list)


def guard_new_messages(
    engine: Engine,
    settings: Settings,
    config: XAccount | FacebookAccount,
    detector: Detector,
    since: datetime,
    *,
    now: Clock,
) -> GuardReport:
    """Plan (and in `auto` mode carry out) the redirect of public posts ingested since `since`."""
    report = GuardReport()
    mode = effective_mode(settings.privacy, config)
    if mode == "off":
        return report
    for message in _new_public_exposures(engine, config.name, since):
        plan = plan_redirect(_public_post(message), detector.scan(message.text), config,
                             settings.privacy, now())
        if plan is None:
            continue
        exposure_id = _record_exposure(engine, message, plan, now())
        report.exposures.append(exposure_id)
        if plan.mode == "auto":
            apply_plan(engine, settings, exposure_id, GUARD_ACTOR, now=now)
            report.applied.append(exposure_id)
        else:
            report.suggested.append(exposure_id)
    return report


def pending_suggestions(
    engine: Engine, conversation_id: int | None = None
) -> list[PrivacyExposure]:
    """Exposures whose redirect waits for an operator (suggest mode), oldest first."""
    with Session(engine, expire_on_commit=False) as session:
        statement = select(PrivacyExposure).where(PrivacyExposure.outcome == SUGGESTED)
        if conversation_id is not None:
            statement = statement.where(PrivacyExposure.conversation_id == conversation_id)
        return list(session.exec(statement.order_by(col(PrivacyExposure.id))).all())


@dataclass(frozen=True)
class ExposureView:
    """One line of the customer card: what kinds of data were shown, when, what was done."""

    exposure_id: int
    conversation_id: int
    types: tuple[str, ...]
    detected_at: datetime
    outcome: str


def contact_exposures(engine: Engine, contact_id: int) -> list[ExposureView]:
    """The card's privacy history, newest first: types and times, never values."""
    with Session(engine) as session:
        rows = session.exec(
            select(PrivacyExposure)
            .join(Conversation, col(Conversation.id) == col(PrivacyExposure.conversation_id))
            .where(Conversation.contact_id == contact_id)
            .order_by(col(PrivacyExposure.detected_at).desc())
        ).all()
        return [
            ExposureView(row.id or 0, row.conversation_id, tuple(row.types.split(",")),
                         row.detected_at, row.outcome)
            for row in rows
        ]


def accept_suggestion(
    engine: Engine, settings: Settings, exposure_id: int, operator: str, *, now: Clock
) -> PrivacyExposure:
    """The operator's one key in suggest mode: carry out the stored plan.

    Raises:
        GuardError: no such exposure, or it is not waiting for an operator.
    """
    _require_suggested(engine, exposure_id)
    return apply_plan(engine, settings, exposure_id, operator, now=now)


def dismiss_suggestion(engine: Engine, exposure_id: int, operator: str, *, now: Clock) -> None:
    """The operator declines the redirect; the exposure stays on the card, audited."""
    _require_suggested(engine, exposure_id)
    with Session(engine) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        assert exposure is not None
        exposure.outcome = DISMISSED
        moment = now()
        exposure.resolved_by, exposure.resolved_at = operator, moment
        session.add(exposure)
        session.add(_audit(moment, operator, "privacy_guard.dismiss", exposure, {}))
        session.commit()


def apply_plan(
    engine: Engine, settings: Settings, exposure_id: int, actor: str, *, now: Clock
) -> PrivacyExposure:
    """Queue and send the exposure's actions in order, then link and mark the conversation.

    A failed step does not stop the next one (a refused DM still leaves the public
    pointer, with the DM link instead); the exposure's outcome says how it went.
    """
    with Session(engine, expire_on_commit=False) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        if exposure is None:
            raise GuardError(f"no privacy exposure {exposure_id}")
        message = session.get(Message, exposure.message_id)
        assert message is not None
    steps = [dict(step) for step in exposure.plan]
    fallback = next((s for s in steps if s.get(_IF_DM_REFUSED)), None)
    dm_state: str | None = None
    for planned in steps:
        if planned.get(_IF_DM_REFUSED):
            continue
        step = planned
        if step["purpose"] == Purpose.PUBLIC_POINTER and dm_state not in (None, "sent"):
            step = fallback or step  # the DM did not go: the pointer carries the DM link
        state, action_id = _run_step(engine, settings, message, step, actor, now)
        step.update(state=state, outbox_action_id=action_id)
        if step["purpose"] == Purpose.PRIVATE_MESSAGE and step["kind"] == ActionKind.DIRECT_MESSAGE:
            dm_state = state
    return _settle(engine, exposure_id, steps, actor, now())


# --- steps ----------------------------------------------------------------------------------


def _run_step(
    engine: Engine, settings: Settings, message: Message, step: dict[str, Any], actor: str,
    now: Clock,
) -> tuple[str, int | None]:
    """Queue one planned action (audited) and send it now; its outbox state."""
    request = ActionRequest(
        account_id=message.account_id, platform=message.platform, kind=ActionKind(step["kind"]),
        requested_by=actor, text=step.get("text"),
        conversation_id=message.conversation_id if step["kind"] != "direct_message" else None,
        target_message_id=message.id, target_external_id=step.get("target_external_id"),
        target_channel=Channel(step["target_channel"]) if step.get("target_channel") else None,
        recipient_id=step.get("recipient_id"), options=dict(step.get("options") or {}),
    )
    try:
        with Session(engine, expire_on_commit=False) as session:
            row, added = queue(session, request, now=now)
            session.add(AuditEntry(
                at=now(), actor=actor, action=f"privacy_guard.{step['purpose']}",
                target_type="message", target_id=str(message.id),
                detail={"outbox_action_id": row.id, "kind": step["kind"], "queued": added},
            ))
            session.commit()
        sent = send_now(engine, settings, row.id or 0, now=now)
    except SocialdeskError as error:
        log.warning("privacy guard: %s for message %s: %s", step["purpose"], message.id, error)
        return FAILED, None
    return sent.state, sent.id


def _settle(
    engine: Engine, exposure_id: int, steps: list[dict[str, Any]], actor: str, moment: datetime
) -> PrivacyExposure:
    """Outcome, redirect mark and link to the private conversation, in one transaction."""
    ran = [s for s in steps if "state" in s]
    states = {s["state"] for s in ran}
    if states <= {OutboxState.SENT.value}:
        outcome = DONE
    elif OutboxState.SENT.value in states:
        outcome = PARTIAL
    elif states & {OutboxState.PENDING.value, OutboxState.SENDING.value, OutboxState.UNKNOWN.value}:
        outcome = QUEUED
    else:
        outcome = FAILED
    with Session(engine, expire_on_commit=False) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        assert exposure is not None
        exposure.plan = steps
        exposure.outcome = outcome
        exposure.resolved_by, exposure.resolved_at = actor, moment
        session.add(exposure)
        _mark_redirected(session, exposure, ran, moment)
        session.add(_audit(moment, actor, "privacy_guard.redirect", exposure,
                           {"outcome": outcome, "steps": [
                               {"purpose": s["purpose"], "state": s["state"],
                                "outbox_action_id": s["outbox_action_id"]} for s in ran]}))
        session.commit()
        return exposure


def _mark_redirected(
    session: Session, exposure: PrivacyExposure, ran: list[dict[str, Any]], moment: datetime
) -> None:
    """The public conversation is `redirected`; linked to where the private message landed."""
    public = session.get(Conversation, exposure.conversation_id)
    if public is None or not any(s["state"] == OutboxState.SENT.value for s in ran):
        return
    public.redirected_at = public.redirected_at or moment
    private = [s for s in ran if s["purpose"] == Purpose.PRIVATE_MESSAGE
               and s["state"] == OutboxState.SENT.value and s["outbox_action_id"]]
    if private:
        action = session.get(OutboxAction, private[0]["outbox_action_id"])
        landed = session.exec(
            select(Message.conversation_id).where(
                Message.platform == exposure_platform(session, public),
                Message.external_id == (action.external_id if action else None),
            )
        ).first()
        if landed is not None and landed != public.id:
            public.redirected_to_id = landed
    public.updated_at = moment
    session.add(public)


def exposure_platform(session: Session, conversation: Conversation) -> str:
    account = session.get(Account, conversation.account_id)
    return account.platform if account else ""


# --- reading and recording ------------------------------------------------------------------


def _new_public_exposures(engine: Engine, account_name: str, since: datetime) -> list[Message]:
    """Inbound public messages with personal data, ingested since `since`, not yet guarded."""
    with Session(engine, expire_on_commit=False) as session:
        guarded = select(PrivacyExposure.message_id)
        statement = (
            select(Message)
            .join(Account, col(Account.id) == col(Message.account_id))
            .where(
                Account.name == account_name,
                Message.direction == Direction.INBOUND.value,
                Message.visibility == Visibility.PUBLIC.value,
                col(Message.has_pii).is_(True),
                col(Message.ingested_at) >= since,
                col(Message.id).not_in(guarded),
            )
            .order_by(col(Message.id))
        )
        return list(session.exec(statement).all())


def _public_post(message: Message) -> PublicPost:
    return PublicPost(
        platform=message.platform, channel=message.channel, visibility=message.visibility,
        external_id=message.external_id, text=message.text, created_at=message.created_at,
        author_id=message.author_external_id, author_handle=message.author_handle,
        author_name=message.author_name,
    )


def _record_exposure(
    engine: Engine, message: Message, plan: RedirectPlan, moment: datetime
) -> int:
    steps = [_step(action) for action in plan.actions]
    if plan.pointer_if_dm_refused is not None:
        steps.append({**_step(plan.pointer_if_dm_refused), _IF_DM_REFUSED: True})
    with Session(engine) as session:
        exposure = PrivacyExposure(
            conversation_id=message.conversation_id, message_id=message.id or 0,
            types=",".join(plan.types), mode=plan.mode,
            outcome=SUGGESTED if plan.mode == "suggest" else QUEUED,
            language=plan.language, plan=steps, detected_at=moment,
        )
        session.add(exposure)
        session.flush()
        session.add(_audit(moment, GUARD_ACTOR, "privacy_guard.detect", exposure,
                           {"types": list(plan.types), "mode": plan.mode,
                            "notes": list(plan.notes)}))
        session.commit()
        return exposure.id or 0


def _step(action: PlannedAction) -> dict[str, Any]:
    step = asdict(action)
    step["purpose"] = action.purpose.value
    step["kind"] = action.kind.value
    step["target_channel"] = action.target_channel.value if action.target_channel else None
    step["options"] = dict(action.options)
    return step


def _require_suggested(engine: Engine, exposure_id: int) -> None:
    with Session(engine) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
    if exposure is None:
        raise GuardError(f"no privacy exposure {exposure_id}")
    if exposure.outcome != SUGGESTED:
        raise GuardError(f"privacy exposure {exposure_id} is {exposure.outcome}, not waiting")


def _audit(
    at: datetime, actor: str, action: str, exposure: PrivacyExposure, detail: dict[str, Any]
) -> AuditEntry:
    return AuditEntry(at=at, actor=actor, action=action, target_type="conversation",
                      target_id=str(exposure.conversation_id),
                      detail={"exposure_id": exposure.id, "message_id": exposure.message_id,
                              **detail})
