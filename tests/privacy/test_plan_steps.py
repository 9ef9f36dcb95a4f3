"""Redirect plans stored before the steps were typed read back into `PlanStep`s and write
back byte for byte.

`tests/data/stored_redirect_plans.jsonl` holds, one per line, the exact `plan` text the
database held after two auto-mode syncs against the sandbox with the guard of that time
(an X DM left pending by a 429, a DM and a pointer refused, Facebook private replies sent
and refused, and the DM-link pointer run and not run).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import ActionKind, Channel
from socialdesk.platforms.contract import PlannedAction, Purpose
from socialdesk.privacy.plan_steps import PlanStep, StepCondition, read_plan, write_plan
from socialdesk.store.models import ExposureOutcome, OutboxState, PrivacyExposure

STORED_PLANS = (Path(__file__).parent.parent / "data" / "stored_redirect_plans.jsonl"
                ).read_text().splitlines()


def exposure_with(plan_text: str) -> PrivacyExposure:
    return PrivacyExposure(conversation_id=1, message_id=1, types="IBAN", mode="auto",
                           outcome=ExposureOutcome.QUEUED, plan=json.loads(plan_text),
                           detected_at=datetime(2026, 12, 1, tzinfo=UTC))


@pytest.mark.parametrize("plan_text", STORED_PLANS)
def test_a_stored_plan_reads_back_typed_and_writes_back_the_same_json(plan_text: str) -> None:
    exposure = exposure_with(plan_text)
    steps = read_plan(exposure.plan)
    assert all(isinstance(step.action.purpose, Purpose) and isinstance(step.action.kind, ActionKind)
               for step in steps)
    write_plan(exposure, steps)
    assert json.dumps(exposure.plan) == plan_text


def test_the_recorded_fields_of_a_stored_plan_are_typed() -> None:
    pending_dm, planned_pointer, link_pointer = read_plan(json.loads(STORED_PLANS[0]))
    assert (pending_dm.action.purpose, pending_dm.action.kind) == (Purpose.PRIVATE_MESSAGE,
                                                                   ActionKind.DIRECT_MESSAGE)
    assert (pending_dm.state, pending_dm.outbox_action_id) == (OutboxState.PENDING, 1)
    assert (planned_pointer.condition, planned_pointer.state, planned_pointer.ran
            ) == (StepCondition.ALWAYS, None, False)
    assert planned_pointer.action.target_channel is Channel.MENTION
    assert (link_pointer.condition, link_pointer.state) == (StepCondition.IF_DM_REFUSED,
                                                            OutboxState.SENT)


def test_a_planned_step_is_stored_as_the_planned_action_with_nothing_recorded() -> None:
    action = PlannedAction(Purpose.PRIVATE_MESSAGE, ActionKind.PRIVATE_REPLY,
                           target_external_id="c1", target_channel=Channel.COMMENT,
                           text="hello", options={"target_created_at": "2026-12-01T13:09:33"})
    step = PlanStep(action, StepCondition.IF_DM_REFUSED)
    assert step.to_json() == {
        "purpose": "private_message", "kind": "private_reply", "target_external_id": "c1",
        "target_channel": "comment", "recipient_id": None, "text": "hello",
        "options": {"target_created_at": "2026-12-01T13:09:33"}, "if_dm_refused": True,
    }
    refused = step.settled(OutboxState.FAILED)
    assert list(refused.to_json())[-1] == "state"
    assert PlanStep.from_json(refused.queued_as(7).to_json()) == refused.queued_as(7)
