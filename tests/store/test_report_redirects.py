"""The `redirects` report read back as a spreadsheet user reads it (issue 17, point 21).

A public X mention with a phone number; the guard planned hide, DM and public pointer, with
the pointer's DM-link variant held in reserve for when the DM does not go out.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from connectors.base import ActionKind, Channel, Direction, InboundItem, PullPage
from socialdesk.config import settings_from_mapping
from socialdesk.platforms.contract import PlannedAction, Purpose
from socialdesk.privacy.plan_steps import PlanStep, StepCondition, write_plan
from socialdesk.reports import ReportPeriod, ReportRequest, write_report
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.models import (
    ExposureOutcome,
    Message,
    OutboxAction,
    OutboxState,
    PrivacyExposure,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SETTINGS = settings_from_mapping({}, source="test")

HIDE = PlannedAction(Purpose.HIDE, ActionKind.HIDE, target_external_id="1")
DM = PlannedAction(Purpose.PRIVATE_MESSAGE, ActionKind.DIRECT_MESSAGE, recipient_id="c1",
                   text="scrivici qui")
POINTER = PlannedAction(Purpose.PUBLIC_POINTER, ActionKind.REPLY, target_external_id="1",
                        text="ti abbiamo scritto in privato")
POINTER_WITH_LINK = PlannedAction(Purpose.PUBLIC_POINTER, ActionKind.REPLY,
                                  target_external_id="1",
                                  text="scrivici in privato: https://x.com/messages/compose")


def mention(store: Engine, when: datetime = datetime(2026, 11, 30, 10, tzinfo=UTC)) -> None:
    account = ensure_account(store, "brand-x", "x", now=NOW)
    item = InboundItem(
        platform="x", external_id="1", channel=Channel.MENTION, direction=Direction.INBOUND,
        thread_key="1", text="richiamatemi al +39 347 123 4567",
        created_at=when, author_id="c1",
        author_handle="customer_1",
    )
    with Session(store) as session:
        ingest_page(session, account, PullPage("mentions", [item]), now=NOW)


def outbox(session: Session, kind: ActionKind, state: OutboxState) -> int:
    """The outbox action a step was queued as, left in `state`."""
    account_id = session.connection().execute(
        select(Message.account_id).where(Message.external_id == "1")).scalar_one()
    row = OutboxAction(
        idempotency_key=f"guard-{kind}-{state}", account_id=account_id, platform="x",
        kind=kind.value, state=state.value, requested_by="AB", text="…",
        sent_at=NOW if state is OutboxState.SENT else None, created_at=NOW, updated_at=NOW)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def expose(session: Session, steps: list[PlanStep], outcome: ExposureOutcome,
           detected_at: datetime = datetime(2026, 11, 30, 10, 1, tzinfo=UTC)) -> None:
    """The guard's record of the mention, with its plan as the guard stores it."""
    conversation_id, message_id = session.connection().execute(
        select(Message.conversation_id, Message.id).where(Message.external_id == "1")).one()
    exposure = PrivacyExposure(
        conversation_id=conversation_id, message_id=message_id, types="PHONE",
        detected_at=detected_at, mode="suggest", outcome=outcome, resolved_by="AB")
    write_plan(exposure, steps)
    session.add(exposure)
    session.commit()


def read(store: Engine, kind: str) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    with Session(store) as session:
        write_report(session, SETTINGS, ReportRequest(kind=kind, period=ReportPeriod()),
                     out, now=NOW)
    return list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))


def redirects(store: Engine) -> list[dict[str, str]]:
    return read(store, "redirects")


def test_a_suggestion_not_run_lists_each_planned_action_once(store: Engine) -> None:
    """The report read `public_pointer reply: not run; public_pointer reply: not run`."""
    mention(store)
    with Session(store) as session:
        expose(session, [PlanStep(HIDE), PlanStep(DM), PlanStep(POINTER),
                         PlanStep(POINTER_WITH_LINK, StepCondition.IF_DM_REFUSED)],
               ExposureOutcome.SUGGESTED)
    (row,) = redirects(store)
    assert row["actions"] == ("hide hide: not run; private_message direct_message: not run; "
                              "public_pointer reply: not run")


def test_a_redirect_whose_dm_went_out_lists_the_planned_pointer_once(store: Engine) -> None:
    mention(store)
    with Session(store) as session:
        steps = [PlanStep(HIDE).queued_as(outbox(session, ActionKind.HIDE, OutboxState.SENT)),
                 PlanStep(DM).queued_as(
                     outbox(session, ActionKind.DIRECT_MESSAGE, OutboxState.SENT)),
                 PlanStep(POINTER).queued_as(outbox(session, ActionKind.REPLY,
                                                    OutboxState.SENT)),
                 PlanStep(POINTER_WITH_LINK, StepCondition.IF_DM_REFUSED)]
        expose(session, steps, ExposureOutcome.DONE)
    (row,) = redirects(store)
    assert row["actions"] == ("hide hide: sent; private_message direct_message: sent; "
                              "public_pointer reply: sent")


def test_a_refused_dm_lists_the_pointer_with_the_link_in_place_of_the_planned_one(
    store: Engine,
) -> None:
    """The pointer that went out is the DM-link variant; the planned one never ran."""
    mention(store)
    with Session(store) as session:
        steps = [PlanStep(HIDE).queued_as(outbox(session, ActionKind.HIDE, OutboxState.SENT)),
                 PlanStep(DM).queued_as(
                     outbox(session, ActionKind.DIRECT_MESSAGE, OutboxState.FAILED)),
                 PlanStep(POINTER),
                 PlanStep(POINTER_WITH_LINK, StepCondition.IF_DM_REFUSED).queued_as(
                     outbox(session, ActionKind.REPLY, OutboxState.PENDING))]
        expose(session, steps, ExposureOutcome.QUEUED)
    (row,) = redirects(store)
    assert row["actions"] == ("hide hide: sent; private_message direct_message: failed; "
                              "public_pointer reply: pending")


@pytest.mark.usefixtures("rome_local_time")
@pytest.mark.parametrize(("moment", "cell"), [
    (datetime(2026, 11, 30, 10, 1, tzinfo=UTC), "2026-11-30T10:01:00Z"),
    (datetime(2026, 11, 30, 10, 1, 7, 482913, tzinfo=UTC), "2026-11-30T10:01:07Z"),
])
def test_a_redirect_time_is_written_as_every_report_writes_times(
    store: Engine, moment: datetime, cell: str,
) -> None:
    """The guard's detection time is written by the same rule as the messages' and the
    conversations' times (it was formatted apart, in Python), in UTC on a machine in
    another zone too, and to the whole second in every report (a time with microseconds
    was written with them, one without them without: two precisions in one column)."""
    mention(store, moment)
    with Session(store) as session:
        expose(session, [PlanStep(HIDE)], ExposureOutcome.SUGGESTED, detected_at=moment)
    (redirect,) = redirects(store)
    (message,) = read(store, "messages")
    (conversation,) = read(store, "conversations")
    assert redirect["detected_at"] == message["created_at"] == conversation["opened_at"] == cell
