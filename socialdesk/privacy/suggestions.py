"""The operator's side of suggest mode: waiting suggestions, accepting and dismissing them,
and the customer card's history of what was exposed and what was done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from socialdesk.clock import Clock
from socialdesk.config import Settings
from socialdesk.privacy.redirect import GuardError, apply_plan, exposure_audit
from socialdesk.store.models import Conversation, ExposureOutcome, PrivacyExposure


def pending_suggestions(
    engine: Engine, conversation_id: int | None = None
) -> list[PrivacyExposure]:
    """Exposures whose redirect waits for an operator (suggest mode), oldest first."""
    with Session(engine, expire_on_commit=False) as session:
        statement = select(PrivacyExposure).where(
            col(PrivacyExposure.outcome) == ExposureOutcome.SUGGESTED)
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
    outcome: ExposureOutcome


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
        taken = session.exec(
            update(PrivacyExposure)
            .where(col(PrivacyExposure.id) == exposure_id,
                   col(PrivacyExposure.outcome) == ExposureOutcome.SUGGESTED)
            .values(outcome=ExposureOutcome.QUEUED, resolved_by=operator)
        ).rowcount
        session.commit()
    if taken != 1:
        raise GuardError(f"privacy exposure {exposure_id} was taken by someone else meanwhile")
    return apply_plan(engine, settings, exposure_id, operator, now=now)


def dismiss_suggestion(engine: Engine, exposure_id: int, operator: str, *, now: Clock) -> None:
    """The operator declines the redirect; the exposure stays on the card, audited.

    Raises:
        GuardError: no such exposure, or it is not waiting for an operator.
    """
    _require_suggested(engine, exposure_id)
    with Session(engine) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        assert exposure is not None
        exposure.outcome = ExposureOutcome.DISMISSED
        moment = now()
        exposure.resolved_by, exposure.resolved_at = operator, moment
        session.add(exposure)
        session.add(exposure_audit(moment, operator, "privacy_guard.dismiss", exposure, {}))
        session.commit()


def _require_suggested(engine: Engine, exposure_id: int) -> None:
    with Session(engine) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
    if exposure is None:
        raise GuardError(f"no privacy exposure {exposure_id}")
    if exposure.outcome != ExposureOutcome.SUGGESTED:
        raise GuardError(f"privacy exposure {exposure_id} is {exposure.outcome}, not waiting")
