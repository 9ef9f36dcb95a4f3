"""Carries out an exposure's redirect plan, step by step and resumably, and settles it.

Hide first, then the private message, then the public pointer, whose text on X depends on
whether the DM went out. Each step is queued through the outbox, recorded in the plan in
the transaction that queues it, and sent; the exposure's outcome, the conversation's
redirect mark and the link to the private conversation are written in one transaction
once the steps ran. Every step writes an `AuditEntry`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from connectors.base import ActionKind
from socialdesk.clock import Clock
from socialdesk.config import Settings
from socialdesk.desk.outbox import send_now
from socialdesk.desk.outbox_queue import ActionRequest, queue
from socialdesk.errors import SocialdeskError
from socialdesk.platforms.contract import PlannedAction, Purpose
from socialdesk.privacy.plan_steps import PlanStep, StepCondition, read_plan, write_plan
from socialdesk.store.models import (
    Account,
    AuditEntry,
    Conversation,
    ExposureOutcome,
    Message,
    OutboxAction,
    OutboxState,
    PrivacyExposure,
)

log = logging.getLogger(__name__)

class GuardError(SocialdeskError):
    title = "privacy guard"
    exit_code = 2


def apply_plan(
    engine: Engine, settings: Settings, exposure_id: int, actor: str, *, now: Clock
) -> PrivacyExposure:
    """Queue and send the exposure's actions in order, then link and mark the conversation.

    Resumable: each step's outbox action is recorded in the plan in the transaction that
    queues it, so a pass that finds a step already queued sends that action (the outbox
    sends it at most once) and never queues another. A step still `sending` (a crash not
    yet recovered, or another process) stops here; the exposure stays `queued` for the
    next pass. A failed step does not stop the next one (a refused DM still leaves the
    public pointer, with the DM link instead); the exposure's outcome says how it went.

    Raises:
        GuardError: no such exposure.
    """
    with Session(engine, expire_on_commit=False) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        if exposure is None:
            raise GuardError(f"no privacy exposure {exposure_id}")
        message = session.get(Message, exposure.message_id)
        assert message is not None
    plan = read_plan(exposure.plan)
    dm_state: OutboxState | None = None
    # The generator asks for the DM's state when it reaches the pointer: late binding wanted.
    for index in _step_order(plan, lambda: dm_state):  # noqa: B023
        state = _run_step(engine, settings, message, exposure_id, index, actor, now)
        if state == OutboxState.SENDING:
            break
        step = plan[index]
        if (step.action.purpose == Purpose.PRIVATE_MESSAGE
                and step.action.kind == ActionKind.DIRECT_MESSAGE):
            dm_state = state
    return _settle(engine, exposure_id, actor, now())


def _step_order(
    plan: list[PlanStep], dm_state: Callable[[], OutboxState | None]
) -> Iterator[int]:
    """Indexes of the steps to run, in order; the public pointer is the one already
    queued, else the DM-link variant when the DM did not go, else the planned one."""
    fallback = next((i for i, s in enumerate(plan) if _if_dm_refused(s)), None)
    for index, step in enumerate(plan):
        if _if_dm_refused(step):
            continue
        if step.action.purpose == Purpose.PUBLIC_POINTER and fallback is not None:
            if plan[fallback].outbox_action_id is not None or (
                step.outbox_action_id is None
                and dm_state() not in (None, OutboxState.SENT)
            ):
                index = fallback
        yield index


def _if_dm_refused(step: PlanStep) -> bool:
    return step.condition is StepCondition.IF_DM_REFUSED


def _run_step(
    engine: Engine, settings: Settings, message: Message, exposure_id: int, index: int,
    actor: str, now: Clock,
) -> OutboxState:
    """Send step `index`'s outbox action, queuing it first (audited, and recorded in the
    plan in the same transaction) unless an earlier pass did; its outbox state."""
    try:
        action_id = _queued_step(engine, message, exposure_id, index, actor, now)
        if action_id is None:
            return OutboxState.FAILED
        return send_now(engine, settings, action_id, now=now).state
    except SocialdeskError as error:
        log.warning("privacy guard: step %s for message %s: %s", index, message.id, error)
        return _state_of(engine, exposure_id, index) or OutboxState.FAILED


def _queued_step(
    engine: Engine, message: Message, exposure_id: int, index: int, actor: str, now: Clock
) -> int | None:
    """The step's outbox action id; None when the step failed before it could be queued."""
    with Session(engine, expire_on_commit=False) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        assert exposure is not None
        steps = read_plan(exposure.plan)
        step = steps[index]
        if step.outbox_action_id is not None:
            return step.outbox_action_id
        if step.state == OutboxState.FAILED:
            return None
        try:
            row, added = queue(session, _request(message, step.action, actor), now=now)
        except SocialdeskError as error:
            session.rollback()
            log.warning("privacy guard: %s for message %s: %s", step.action.purpose.value,
                        message.id, error)
            _record_step(engine, exposure_id, index, OutboxState.FAILED)
            return None
        assert row.id is not None
        steps[index] = step.queued_as(row.id)
        write_plan(exposure, steps)
        session.add(exposure)
        session.add(AuditEntry(
            at=now(), actor=actor, action=f"privacy_guard.{step.action.purpose.value}",
            target_type="message", target_id=str(message.id),
            detail={"outbox_action_id": row.id, "kind": step.action.kind.value, "queued": added},
        ))
        session.commit()
        return row.id


def _request(message: Message, action: PlannedAction, actor: str) -> ActionRequest:
    return ActionRequest(
        account_id=message.account_id, platform=message.platform, kind=action.kind,
        requested_by=actor, text=action.text,
        conversation_id=(message.conversation_id
                         if action.kind != ActionKind.DIRECT_MESSAGE else None),
        target_message_id=message.id, target_external_id=action.target_external_id,
        target_channel=action.target_channel, recipient_id=action.recipient_id,
        options=dict(action.options),
    )


def _record_step(engine: Engine, exposure_id: int, index: int, state: OutboxState) -> None:
    """The step's state, written alone: it could not be queued, so no action records it."""
    with Session(engine) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        assert exposure is not None
        steps = read_plan(exposure.plan)
        steps[index] = steps[index].settled(state)
        write_plan(exposure, steps)
        session.add(exposure)
        session.commit()


def _state_of(engine: Engine, exposure_id: int, index: int) -> OutboxState | None:
    """The outbox state of a step already queued (a send that raised may have left it)."""
    with Session(engine) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        action_id = read_plan(exposure.plan)[index].outbox_action_id if exposure else None
        row = session.get(OutboxAction, action_id) if action_id is not None else None
        return row.state if row is not None else None


_IN_FLIGHT = {OutboxState.PENDING, OutboxState.SENDING}


def _settle(engine: Engine, exposure_id: int, actor: str, moment: datetime) -> PrivacyExposure:
    """Outcome, redirect mark and link to the private conversation, in one transaction.

    `queued` while a step is not run yet or its action is still pending or sending: the
    next pass carries it on. `unknown` alone also stays `queued` (it waits for a human).
    A pass that changed nothing (a step still waiting) writes nothing, audit included.
    """
    with Session(engine, expire_on_commit=False) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        assert exposure is not None
        stored = read_plan(exposure.plan)
        steps = [_settled(session, step) for step in stored]
        if (steps == stored
                and _outcome(steps) == exposure.outcome != ExposureOutcome.SUGGESTED):
            return exposure
        ran = [s for s in steps if s.ran]
        write_plan(exposure, steps)
        exposure.outcome = _outcome(steps)
        exposure.resolved_by, exposure.resolved_at = exposure.resolved_by or actor, moment
        session.add(exposure)
        _mark_redirected(session, exposure, ran, moment)
        session.add(exposure_audit(moment, actor, "privacy_guard.redirect", exposure,
                                   {"outcome": exposure.outcome.value, "steps": [
                                       {"purpose": s.action.purpose.value,
                                        "state": s.state.value if s.state else None,
                                        "outbox_action_id": s.outbox_action_id}
                                       for s in ran]}))
        session.commit()
        return exposure


def _settled(session: Session, step: PlanStep) -> PlanStep:
    """The step with its outbox action's current state, once it was queued."""
    if step.outbox_action_id is None:
        return step
    action = session.get(OutboxAction, step.outbox_action_id)
    return step.settled(OutboxState(action.state) if action is not None else OutboxState.FAILED)


def _outcome(steps: list[PlanStep]) -> ExposureOutcome:
    pointer_ran = any(s.action.purpose == Purpose.PUBLIC_POINTER and s.ran for s in steps)
    needed = [s for s in steps if not _if_dm_refused(s)
              and not (pointer_ran and s.action.purpose == Purpose.PUBLIC_POINTER)]
    states = {s.state for s in steps if s.state is not None}
    if any(not s.ran for s in needed) or states & _IN_FLIGHT:
        return ExposureOutcome.QUEUED
    if states <= {OutboxState.SENT}:
        return ExposureOutcome.DONE
    if OutboxState.SENT in states:
        return ExposureOutcome.PARTIAL
    if OutboxState.UNKNOWN in states:
        return ExposureOutcome.QUEUED
    return ExposureOutcome.FAILED


def _mark_redirected(
    session: Session, exposure: PrivacyExposure, ran: list[PlanStep], moment: datetime
) -> None:
    """The public conversation is `redirected`; linked to where the private message landed."""
    public = session.get(Conversation, exposure.conversation_id)
    if public is None or not any(s.state == OutboxState.SENT for s in ran):
        return
    public.redirected_at = public.redirected_at or moment
    private = [s for s in ran if s.action.purpose == Purpose.PRIVATE_MESSAGE
               and s.state == OutboxState.SENT and s.outbox_action_id]
    if private:
        action = session.get(OutboxAction, private[0].outbox_action_id)
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


def exposure_audit(
    at: datetime, actor: str, action: str, exposure: PrivacyExposure, detail: dict[str, Any]
) -> AuditEntry:
    """The audit entry of something the guard or an operator did about an exposure."""
    return AuditEntry(at=at, actor=actor, action=action, target_type="conversation",
                      target_id=str(exposure.conversation_id),
                      detail={"exposure_id": exposure.id, "message_id": exposure.message_id,
                              **detail})
