"""An outbox row's state: compare-and-set transitions, and recording what came of a send.

Shared by the dispatcher (`desk.outbox`) and the operator's retry (`desk.outbox_review`):
every change of state is a compare-and-set, so two processes never both move one action.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from connectors.base import (
    ActionKind,
    Channel,
    Connector,
    ConnectorError,
    OutboundAction,
    PullPage,
    ReconcileUnsupported,
    SendReceipt,
)
from socialdesk.config import Settings
from socialdesk.desk.outbound_message import link_customer, outbound_item
from socialdesk.desk.outbox_queue import OutboxError
from socialdesk.store.ingest import ingest_page
from socialdesk.store.models import ACKNOWLEDGEMENT_ACTOR, Account, OutboxAction, OutboxState

HUMAN_CHECK = "check the platform by hand, then `socialdesk outbox retry {id} --yes` if missing"


def transition(
    session: Session, action_id: int, expected: OutboxState | tuple[OutboxState, ...],
    target: OutboxState, at: datetime, **values: Any,
) -> bool:
    """Compare-and-set of the state: True only when the row was in `expected`."""
    states = [expected] if isinstance(expected, OutboxState) else list(expected)
    result = session.exec(
        update(OutboxAction)
        .where(col(OutboxAction.id) == action_id,
               col(OutboxAction.state).in_([state.value for state in states]))
        .values(state=target.value, updated_at=at, **values)
    )
    return bool(result.rowcount == 1)


def load_action(engine: Engine, action_id: int) -> OutboxAction:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(OutboxAction, action_id)
        if row is None:
            raise OutboxError(f"no outbox action {action_id}")
        return row



def outbound_action(row: OutboxAction) -> OutboundAction:
    """The connector's view of a row."""
    return OutboundAction(
        kind=ActionKind(row.kind), target_id=row.target_external_id,
        target_channel=Channel(row.target_channel) if row.target_channel else None,
        text=row.text, recipient_id=row.recipient_id, thread_key=row.thread_key,
        messaging_type=row.options.get("messaging_type"), tag=row.options.get("tag"),
        not_before=row.created_at,
    )



def reconcile(
    engine: Engine, settings: Settings, row: OutboxAction, connector: Connector, now: datetime
) -> OutboxAction:
    """Look for an `unknown` action on the platform: `sent` if found, else left for a human."""
    try:
        receipt = connector.find_sent(outbound_action(row))
    except ReconcileUnsupported as error:
        note = f"{row.last_error}; the API cannot tell whether it went out ({error}): "
    except ConnectorError as error:
        note = f"{row.last_error}; checking the platform failed ({error}): "
    else:
        if receipt is not None:
            return record_sent(engine, settings, row, receipt, (OutboxState.UNKNOWN,), now)
        note = f"{row.last_error}; not found among the platform's recent items: "
    with Session(engine) as session:
        session.exec(update(OutboxAction).where(
            col(OutboxAction.id) == row.id, col(OutboxAction.state) == OutboxState.UNKNOWN.value
        ).values(last_error=note + HUMAN_CHECK.format(id=row.id), updated_at=now))
        session.commit()
    return load_action(engine, row.id or 0)



def record_sent(
    engine: Engine, settings: Settings, row: OutboxAction, receipt: SendReceipt,
    expected: tuple[OutboxState, ...], now: datetime,
) -> OutboxAction:
    """`sent`, with the platform's id, and the outbound message, in one transaction.

    The message carries the platform id, so the next sync's echo is the same
    `(platform, external_id)` and adds nothing.
    """
    with Session(engine, expire_on_commit=False) as session:
        won = transition(session, row.id or 0, expected, OutboxState.SENT, now,
                          external_id=receipt.external_id, sent_at=now, last_error=None,
                          claimed_by=None)
        account = session.get(Account, row.account_id)
        if not won or account is None:
            session.rollback()
            return load_action(engine, row.id or 0)
        if receipt.external_id is None or row.text is None:
            session.commit()
        else:
            item = outbound_item(settings, account, row, receipt, now)
            ingest_page(session, account, PullPage(stream="outbox", items=[item]), now=now,
                        find_spans=None,
                        automated=row.requested_by == ACKNOWLEDGEMENT_ACTOR,
                        refetchable=False)
            link_customer(session, account, row, item.thread_key)
    return load_action(engine, row.id or 0)

