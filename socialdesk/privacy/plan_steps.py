"""The redirect plan as an exposure stores it: typed steps, and their JSON in the database.

`PrivacyExposure.plan` is a JSON list with one object per step. This module is the one
place that reads and writes it (`read_plan`, `write_plan`); everything else works with
`PlanStep`. The JSON stays what the guard has always stored, key for key and in the same
order, so stores written before the steps were typed read back and write back unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from connectors.base import ActionKind, Channel
from socialdesk.platforms.contract import PlannedAction, Purpose
from socialdesk.store.models import OutboxState, PrivacyExposure


class StepCondition(StrEnum):
    """When a step runs. A step that waits for a condition is stored with the condition's
    value as a key set to `true`; one that always runs has no such key."""

    ALWAYS = "always"
    IF_DM_REFUSED = "if_dm_refused"
    """The public pointer's variant that carries the link to the private channel, run in
    place of the planned pointer when the private message did not go out."""


@dataclass(frozen=True)
class PlanStep:
    """One step of an exposure's redirect: the planned outbox action and what came of it."""

    action: PlannedAction
    condition: StepCondition = StepCondition.ALWAYS
    outbox_action_id: int | None = None
    """The outbox action queued for the step, recorded in the transaction that queued it."""
    state: OutboxState | None = None
    """The step's outbox state when the plan was last settled; `failed` without an action
    when it could not even be queued; None while the step has not run."""

    @property
    def conditional(self) -> bool:
        """True for a step held in reserve, run only in place of another one."""
        return self.condition is not StepCondition.ALWAYS

    @property
    def ran(self) -> bool:
        return self.state is not None

    def queued_as(self, outbox_action_id: int) -> PlanStep:
        return replace(self, outbox_action_id=outbox_action_id)

    def settled(self, state: OutboxState) -> PlanStep:
        return replace(self, state=state)

    def to_json(self) -> dict[str, Any]:
        """The step as the database stores it; the keys that mark a run (condition,
        outbox action, state) are left out until they hold something."""
        action = self.action
        stored: dict[str, Any] = {
            "purpose": action.purpose.value,
            "kind": action.kind.value,
            "target_external_id": action.target_external_id,
            "target_channel": action.target_channel.value if action.target_channel else None,
            "recipient_id": action.recipient_id,
            "text": action.text,
            "options": dict(action.options),
        }
        if self.condition is not StepCondition.ALWAYS:
            stored[self.condition.value] = True
        if self.outbox_action_id is not None:
            stored["outbox_action_id"] = self.outbox_action_id
        if self.state is not None:
            stored["state"] = self.state.value
        return stored

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> PlanStep:
        """A step as the database holds it (see `to_json`)."""
        channel = stored.get("target_channel")
        action_id = stored.get("outbox_action_id")
        state = stored.get("state")
        action = PlannedAction(
            purpose=Purpose(stored["purpose"]), kind=ActionKind(stored["kind"]),
            target_external_id=stored.get("target_external_id"),
            target_channel=Channel(channel) if channel else None,
            recipient_id=stored.get("recipient_id"), text=stored.get("text"),
            options=dict(stored.get("options") or {}),
        )
        return cls(
            action=action,
            condition=next((condition for condition in _CONDITIONS
                            if stored.get(condition.value)), StepCondition.ALWAYS),
            outbox_action_id=int(action_id) if action_id is not None else None,
            state=OutboxState(state) if state is not None else None,
        )


_CONDITIONS = tuple(condition for condition in StepCondition
                    if condition is not StepCondition.ALWAYS)
"""The conditions a stored step may carry as a key."""


def read_plan(stored: Sequence[Mapping[str, Any]]) -> list[PlanStep]:
    """The steps of a stored plan (`PrivacyExposure.plan`), in the order they were planned."""
    return [PlanStep.from_json(step) for step in stored]


def write_plan(exposure: PrivacyExposure, steps: Sequence[PlanStep]) -> None:
    """Store `steps` as the exposure's plan; a new list, so the session sees the change."""
    exposure.plan = [step.to_json() for step in steps]
