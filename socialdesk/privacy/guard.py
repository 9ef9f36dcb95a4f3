"""Runs the privacy guard after a pull: records exposures, queues and sends the redirect.

`privacy.policy` decides (a pure function); this module is the orchestration around it:
it reads the public messages ingest marked `undecided` (whichever pass stored them),
stores one `PrivacyExposure` per message (types and time, never values) and marks it
`decided` in the same transaction, and in `auto` mode queues the planned actions
through the outbox and sends them in order: hide first, then the private message, then
the public pointer, whose text on X depends on whether the DM went out. In `suggest`
mode the plan waits in the exposure row until an operator accepts or dismisses it.
Every automatic step writes an `AuditEntry`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from connectors.base import ActionKind, Channel
from socialdesk.clock import Clock
from socialdesk.config import AccountConfig, Settings
from socialdesk.desk.outbox import send_now
from socialdesk.desk.outbox_queue import ActionRequest, queue
from socialdesk.errors import SocialdeskError
from socialdesk.platforms.base import PlannedAction, PublicPost, Purpose
from socialdesk.privacy.detect import Detector, Entity
from socialdesk.privacy.policy import RedirectPlan, effective_mode, plan_redirect
from socialdesk.store.models import (
    UNDECIDED_ONLY,
    Account,
    AuditEntry,
    Conversation,
    Message,
    OutboxAction,
    OutboxState,
    PrivacyExposure,
    PrivacyState,
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


def guard_undecided(
    engine: Engine,
    settings: Settings,
    config: AccountConfig,
    detector: Detector,
    *,
    now: Clock,
) -> GuardReport:
    """Decide every public post of the account still `undecided`, then carry on every
    redirect left `queued`: whatever an earlier pass stored or began and a crash cut short.

    Deciding is one transaction per message (exposure, plan, audit and the `decided`
    mark), so a message is guarded once and never forgotten.
    """
    report = GuardReport()
    mode = effective_mode(settings.privacy, config)
    if mode == "off":
        return report
    account_id = _account_id(engine, config.name)
    if account_id is None:
        return report
    for message in _undecided(engine, account_id):
        plan = plan_redirect(_public_post(message), _entities(message, detector), config,
                             settings.privacy, now())
        exposure_id = _decide(engine, message, plan, now())
        if exposure_id is None or plan is None:
            continue
        report.exposures.append(exposure_id)
        if plan.mode != "auto":
            report.suggested.append(exposure_id)
    for exposure_id in _unfinished(engine, account_id):
        apply_plan(engine, settings, exposure_id, GUARD_ACTOR, now=now)
        report.applied.append(exposure_id)
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

    The exposure turns `queued` first, in its own transaction: a crash while its actions
    go out leaves it for the next pass to carry on, and a second key finds it taken.

    Raises:
        GuardError: no such exposure, or it is not waiting for an operator.
    """
    _require_suggested(engine, exposure_id)
    with Session(engine) as session:
        taken = session.exec(  # type: ignore[call-overload]
            update(PrivacyExposure)
            .where(col(PrivacyExposure.id) == exposure_id, PrivacyExposure.outcome == SUGGESTED)
            .values(outcome=QUEUED, resolved_by=operator)
        ).rowcount
        session.commit()
    if taken != 1:
        raise GuardError(f"privacy exposure {exposure_id} was taken by someone else meanwhile")
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

    Resumable: each step's outbox action is recorded in the plan in the transaction that
    queues it, so a pass that finds a step already queued sends that action (the outbox
    sends it at most once) and never queues another. A step still `sending` (a crash not
    yet recovered, or another process) stops here; the exposure stays `queued` for the
    next pass. A failed step does not stop the next one (a refused DM still leaves the
    public pointer, with the DM link instead); the exposure's outcome says how it went.
    """
    with Session(engine, expire_on_commit=False) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        if exposure is None:
            raise GuardError(f"no privacy exposure {exposure_id}")
        message = session.get(Message, exposure.message_id)
        assert message is not None
    dm_state: str | None = None
    # The generator asks for the DM's state when it reaches the pointer: late binding wanted.
    for index in _step_order(exposure.plan, lambda: dm_state):  # noqa: B023
        state = _run_step(engine, settings, message, exposure_id, index, actor, now)
        if state == OutboxState.SENDING.value:
            break
        step = exposure.plan[index]
        if step["purpose"] == Purpose.PRIVATE_MESSAGE and step["kind"] == ActionKind.DIRECT_MESSAGE:
            dm_state = state
    return _settle(engine, exposure_id, actor, now())


def _step_order(
    plan: list[dict[str, Any]], dm_state: Callable[[], str | None]
) -> Iterator[int]:
    """Indexes of the steps to run, in order; the public pointer is the one already
    queued, else the DM-link variant when the DM did not go, else the planned one."""
    fallback = next((i for i, s in enumerate(plan) if s.get(_IF_DM_REFUSED)), None)
    for index, step in enumerate(plan):
        if step.get(_IF_DM_REFUSED):
            continue
        if step["purpose"] == Purpose.PUBLIC_POINTER and fallback is not None:
            if plan[fallback].get("outbox_action_id") is not None or (
                step.get("outbox_action_id") is None and dm_state() not in (None, "sent")
            ):
                index = fallback
        yield index


# --- steps ----------------------------------------------------------------------------------


def _run_step(
    engine: Engine, settings: Settings, message: Message, exposure_id: int, index: int,
    actor: str, now: Clock,
) -> str:
    """Send step `index`'s outbox action, queuing it first (audited, and recorded in the
    plan in the same transaction) unless an earlier pass did; its outbox state."""
    try:
        action_id = _queued_step(engine, message, exposure_id, index, actor, now)
        if action_id is None:
            return FAILED
        return send_now(engine, settings, action_id, now=now).state
    except SocialdeskError as error:
        log.warning("privacy guard: step %s for message %s: %s", index, message.id, error)
        return _state_of(engine, exposure_id, index) or FAILED


def _queued_step(
    engine: Engine, message: Message, exposure_id: int, index: int, actor: str, now: Clock
) -> int | None:
    """The step's outbox action id; None when the step failed before it could be queued."""
    with Session(engine, expire_on_commit=False) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        assert exposure is not None
        steps = [dict(step) for step in exposure.plan]
        step = steps[index]
        if step.get("outbox_action_id") is not None:
            return int(step["outbox_action_id"])
        if step.get("state") == FAILED:
            return None
        try:
            row, added = queue(session, _request(message, step, actor), now=now)
        except SocialdeskError as error:
            session.rollback()
            log.warning("privacy guard: %s for message %s: %s", step["purpose"], message.id,
                        error)
            _record_step(engine, exposure_id, index, {"state": FAILED})
            return None
        step["outbox_action_id"] = row.id
        exposure.plan = steps
        session.add(exposure)
        session.add(AuditEntry(
            at=now(), actor=actor, action=f"privacy_guard.{step['purpose']}",
            target_type="message", target_id=str(message.id),
            detail={"outbox_action_id": row.id, "kind": step["kind"], "queued": added},
        ))
        session.commit()
        return row.id


def _request(message: Message, step: dict[str, Any], actor: str) -> ActionRequest:
    return ActionRequest(
        account_id=message.account_id, platform=message.platform, kind=ActionKind(step["kind"]),
        requested_by=actor, text=step.get("text"),
        conversation_id=message.conversation_id if step["kind"] != "direct_message" else None,
        target_message_id=message.id, target_external_id=step.get("target_external_id"),
        target_channel=Channel(step["target_channel"]) if step.get("target_channel") else None,
        recipient_id=step.get("recipient_id"), options=dict(step.get("options") or {}),
    )


def _record_step(engine: Engine, exposure_id: int, index: int, values: dict[str, Any]) -> None:
    with Session(engine) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        assert exposure is not None
        steps = [dict(step) for step in exposure.plan]
        steps[index].update(values)
        exposure.plan = steps
        session.add(exposure)
        session.commit()


def _state_of(engine: Engine, exposure_id: int, index: int) -> str | None:
    """The outbox state of a step already queued (a send that raised may have left it)."""
    with Session(engine) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        action_id = exposure.plan[index].get("outbox_action_id") if exposure else None
        row = session.get(OutboxAction, action_id) if action_id is not None else None
        return row.state if row is not None else None


_IN_FLIGHT = {OutboxState.PENDING.value, OutboxState.SENDING.value}


def _settle(engine: Engine, exposure_id: int, actor: str, moment: datetime) -> PrivacyExposure:
    """Outcome, redirect mark and link to the private conversation, in one transaction.

    `queued` while a step is not run yet or its action is still pending or sending: the
    next pass carries it on. `unknown` alone also stays `queued` (it waits for a human).
    A pass that changed nothing (a step still waiting) writes nothing, audit included.
    """
    with Session(engine, expire_on_commit=False) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        assert exposure is not None
        steps = [dict(step) for step in exposure.plan]
        for step in steps:
            if step.get("outbox_action_id") is not None:
                action = session.get(OutboxAction, step["outbox_action_id"])
                step["state"] = action.state if action is not None else FAILED
        if steps == exposure.plan and _outcome(steps) == exposure.outcome != SUGGESTED:
            return exposure
        ran = [s for s in steps if "state" in s]
        exposure.plan = steps
        exposure.outcome = _outcome(steps)
        exposure.resolved_by, exposure.resolved_at = exposure.resolved_by or actor, moment
        session.add(exposure)
        _mark_redirected(session, exposure, ran, moment)
        session.add(_audit(moment, actor, "privacy_guard.redirect", exposure,
                           {"outcome": exposure.outcome, "steps": [
                               {"purpose": s["purpose"], "state": s["state"],
                                "outbox_action_id": s.get("outbox_action_id")} for s in ran]}))
        session.commit()
        return exposure


def _outcome(steps: list[dict[str, Any]]) -> str:
    pointer_ran = any(s["purpose"] == Purpose.PUBLIC_POINTER and "state" in s for s in steps)
    needed = [s for s in steps if not s.get(_IF_DM_REFUSED)
              and not (pointer_ran and s["purpose"] == Purpose.PUBLIC_POINTER)]
    ran = [s for s in steps if "state" in s]
    states = {s["state"] for s in ran}
    if any("state" not in s for s in needed) or states & _IN_FLIGHT:
        return QUEUED
    if states <= {OutboxState.SENT.value}:
        return DONE
    if OutboxState.SENT.value in states:
        return PARTIAL
    if OutboxState.UNKNOWN.value in states:
        return QUEUED
    return FAILED


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


_UNDECIDED_BATCH = 200
"""Messages read per query: a backlog after a long outage never loads whole."""


def _account_id(engine: Engine, account_name: str) -> int | None:
    with Session(engine) as session:
        return session.exec(select(Account.id).where(Account.name == account_name)).first()


def _undecided(engine: Engine, account_id: int) -> Iterator[Message]:
    """The account's messages ingest marked `undecided`, oldest first, in batches."""
    after = 0
    while True:
        with Session(engine, expire_on_commit=False) as session:
            batch = list(session.exec(undecided_batch(account_id, after)).all())
        yield from batch
        if len(batch) < _UNDECIDED_BATCH:
            return
        after = batch[-1].id or 0


def undecided_batch(account_id: int, after: int) -> Select[tuple[Message]]:
    """The next undecided messages after id `after`, read by the partial index: its
    condition is written as the index's literal, since a bound value (PostgreSQL's
    generic plans of prepared statements) cannot prove the index applies."""
    return (
        select(Message)
        .where(UNDECIDED_ONLY, Message.account_id == account_id, col(Message.id) > after)
        .order_by(col(Message.id))
        .limit(_UNDECIDED_BATCH)
    )


def _unfinished(engine: Engine, account_id: int) -> list[int]:
    """Exposures of the account whose plan was taken on and not finished, oldest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(PrivacyExposure.id)
            .join(Conversation, col(Conversation.id) == col(PrivacyExposure.conversation_id))
            .where(PrivacyExposure.outcome == QUEUED, Conversation.account_id == account_id)
            .order_by(col(PrivacyExposure.id))
        ).all()
    return [int(row) for row in rows if row is not None]


def _entities(message: Message, detector: Detector) -> list[Entity]:
    """The personal data ingest found and stored with the message, so the guard decides on
    what the desk and the reports mask; a message stored without its spans is scanned."""
    if not message.pii_spans:
        return detector.scan(message.text)
    return [Entity(kind, start, end, message.text[start:end])
            for start, end, kind in message.pii_spans]


def _public_post(message: Message) -> PublicPost:
    return PublicPost(
        platform=message.platform, channel=message.channel, visibility=message.visibility,
        external_id=message.external_id, text=message.text, created_at=message.created_at,
        author_id=message.author_external_id, author_handle=message.author_handle,
        author_name=message.author_name,
    )


def _decide(
    engine: Engine, message: Message, plan: RedirectPlan | None, moment: datetime
) -> int | None:
    """Mark the message decided and record its exposure and plan, in one transaction;
    the exposure's id, or None when there is nothing to record or another pass decided."""
    with Session(engine) as session:
        claimed = session.exec(  # type: ignore[call-overload]
            update(Message)
            .where(col(Message.id) == message.id,
                   Message.privacy_state == PrivacyState.UNDECIDED.value)
            .values(privacy_state=PrivacyState.DECIDED.value)
        ).rowcount
        if claimed != 1 or plan is None:
            session.commit()
            return None
        exposure = _exposure(message, plan, moment)
        session.add(exposure)
        session.flush()
        session.add(_audit(moment, GUARD_ACTOR, "privacy_guard.detect", exposure,
                           {"types": list(plan.types), "mode": plan.mode,
                            "notes": list(plan.notes)}))
        session.commit()
        return exposure.id or 0


def _exposure(message: Message, plan: RedirectPlan, moment: datetime) -> PrivacyExposure:
    steps = [_step(action) for action in plan.actions]
    if plan.pointer_if_dm_refused is not None:
        steps.append({**_step(plan.pointer_if_dm_refused), _IF_DM_REFUSED: True})
    return PrivacyExposure(
        conversation_id=message.conversation_id, message_id=message.id or 0,
        types=",".join(plan.types), mode=plan.mode,
        outcome=SUGGESTED if plan.mode == "suggest" else QUEUED,
        language=plan.language, plan=steps, detected_at=moment,
    )


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
