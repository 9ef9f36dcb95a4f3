"""Why a send or a redirect step failed, and what to do next, in the words the desk shows.

The reason is the one stored with the outbox row (the connector's words, already fit for a
person); the advice is what the operator can do about that kind of action: a hide the
platform refuses will not go on a retry, so it points to the customer and to the redirect.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from connectors.base import ActionKind
from socialdesk.privacy.plan_steps import read_plan
from socialdesk.store.models import OutboxAction, OutboxState, PrivacyExposure

SETTLED_BADLY = (OutboxState.FAILED, OutboxState.UNKNOWN)


def send_failure(what: str, action: OutboxAction) -> str:
    """"Hide failed: <stored reason> — <what to do>" for a row that ended badly."""
    reason = f": {action.last_error}" if action.last_error else ""
    return f"{what} {action.state}{reason} — {advice(action)}"


def advice(action: OutboxAction) -> str:
    """What to do about a row that ended failed or unknown."""
    retry = f"socialdesk outbox retry {action.id}"
    if action.state == OutboxState.UNKNOWN:
        return f"it may have gone out: check the platform, then `{retry}`"
    if action.kind in (ActionKind.HIDE, ActionKind.UNHIDE):
        return "ask the customer to delete it, or redirect with g"
    return f"retry with `{retry}`"


def redirect_failures(engine: Engine, exposure: PrivacyExposure) -> str:
    """The redirect's steps that ended badly, each with its stored reason and what to do:
    "public pointer failed (X refuses …) — retry with `socialdesk outbox retry 12`"."""
    told = []
    with Session(engine) as session:
        for step in read_plan(exposure.plan):
            if step.state not in SETTLED_BADLY:
                continue
            name = step.action.purpose.value.replace("_", " ")
            action = (session.get(OutboxAction, step.outbox_action_id)
                      if step.outbox_action_id is not None else None)
            if action is None:
                told.append(f"{name} could not be queued (see the log)")
                continue
            reason = f" ({action.last_error})" if action.last_error else ""
            told.append(f"{name} {action.state}{reason} — {advice(action)}")
    return "; ".join(told)
