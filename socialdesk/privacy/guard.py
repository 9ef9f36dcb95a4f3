"""Decides, after a pull, every public message ingest marked `undecided` with personal data.

`privacy.policy` decides (a pure function); this module is the orchestration around it:
it reads the public messages ingest marked `undecided` (whichever pass stored them),
stores one `PrivacyExposure` per message (types and time, never values) and marks it
`decided` in the same transaction. In `auto` mode the plan is carried out at once
(`privacy.redirect`); in `suggest` mode it waits in the exposure row until an operator
accepts or dismisses it (`privacy.suggestions`). Every automatic step writes an `AuditEntry`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from socialdesk.clock import Clock
from socialdesk.config import AccountConfig, Settings
from socialdesk.platforms.contract import PublicPost
from socialdesk.privacy.detect import Entity
from socialdesk.privacy.plan_steps import PlanStep, StepCondition, write_plan
from socialdesk.privacy.policy import RedirectPlan, effective_mode, plan_redirect
from socialdesk.privacy.redirect import apply_plan, exposure_audit
from socialdesk.store.models import (
    UNDECIDED_ONLY,
    Account,
    Conversation,
    ExposureOutcome,
    Message,
    PrivacyExposure,
    PrivacyState,
)
from socialdesk.store.privacy_modes import with_stored_mode

log = logging.getLogger(__name__)

GUARD_ACTOR = "privacy-guard"
"""The audit log's actor for everything the guard does on its own."""


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
    *,
    now: Clock,
) -> GuardReport:
    """Decide every public post of the account still `undecided`, then carry on every
    redirect left `queued`: whatever an earlier pass stored or began and a crash cut short.

    Deciding is one transaction per message (exposure, plan, audit and the `decided`
    mark), so a message is guarded once and never forgotten. The guard decides on the
    spans ingest stored, never scanning again, so it sees what the desk and the reports
    mask; a message stored without its spans (before they were kept) waits, undecided,
    for `socialdesk privacy rescan`.
    """
    report = GuardReport()
    with Session(engine) as session:  # `socialdesk privacy mode` wins over the config
        config = with_stored_mode(session, config)
    mode = effective_mode(settings.privacy, config)
    if mode == "off":
        return report
    account_id = _account_id(engine, config.name)
    if account_id is None:
        return report
    for message in _undecided(engine, account_id):
        entities = stored_entities(message)
        if entities is None:
            log.warning("message %s was stored without its personal-data spans: run "
                        "socialdesk privacy rescan so the guard can decide it", message.id)
            continue
        plan = plan_redirect(_public_post(message), entities, config, settings.privacy, now(),
                             earlier_redirects(engine, message))
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


def undecided_batch(account_id: int, after: int) -> SelectOfScalar[Message]:
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
            .where(col(PrivacyExposure.outcome) == ExposureOutcome.QUEUED,
                   Conversation.account_id == account_id)
            .order_by(col(PrivacyExposure.id))
        ).all()
    return [int(row) for row in rows if row is not None]


def earlier_redirects(engine: Engine, message: Message) -> int:
    """How many of the author's public messages the guard recorded before this one: the
    pointer's wording is taken in turn by it, so X never sees the same pointer twice for
    one person. Read from the exposures already stored, so it survives restarts."""
    if not message.author_external_id:
        return 0
    with Session(engine) as session:
        return session.exec(
            select(func.count(col(PrivacyExposure.id)))
            .join(Message, col(Message.id) == col(PrivacyExposure.message_id))
            .where(Message.platform == message.platform,
                   Message.author_external_id == message.author_external_id,
                   col(Message.id) != message.id)
        ).one()


def stored_entities(message: Message) -> list[Entity] | None:
    """The personal data ingest (or a rescan) found and stored with the message; [] when
    it holds none, None when it was flagged before spans were stored."""
    if not message.pii_spans:
        return None if message.has_pii else []
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
        claimed = session.exec(
            update(Message)
            .where(col(Message.id) == message.id,
                   col(Message.privacy_state) == PrivacyState.UNDECIDED)
            .values(privacy_state=PrivacyState.DECIDED)
        ).rowcount
        if claimed != 1 or plan is None:
            session.commit()
            return None
        exposure = _exposure(message, plan, moment)
        session.add(exposure)
        session.flush()
        session.add(exposure_audit(moment, GUARD_ACTOR, "privacy_guard.detect", exposure,
                                   {"types": list(plan.types), "mode": plan.mode,
                                    "notes": list(plan.notes)}))
        session.commit()
        return exposure.id or 0


def _exposure(message: Message, plan: RedirectPlan, moment: datetime) -> PrivacyExposure:
    steps = [PlanStep(action) for action in plan.actions]
    if plan.pointer_if_dm_refused is not None:
        steps.append(PlanStep(plan.pointer_if_dm_refused, StepCondition.IF_DM_REFUSED))
    exposure = PrivacyExposure(
        conversation_id=message.conversation_id, message_id=message.id or 0,
        types=",".join(plan.types), mode=plan.mode,
        outcome=(ExposureOutcome.SUGGESTED if plan.mode == "suggest"
                 else ExposureOutcome.QUEUED),
        language=plan.language, detected_at=moment,
    )
    write_plan(exposure, steps)
    return exposure
