"""The Core handles of the store's tables, typed once, for the statements that skip the ORM.

Bulk writes, reports and the queue's keyset pages build SQL on these: the ORM's per-row
bookkeeping costs 8x on the ingest path (PLATFORMS.md), and column expressions on a
`Table` are typed where the model's class attributes are not.
"""

from __future__ import annotations

from sqlalchemy import Table, inspect
from sqlmodel import SQLModel

from socialdesk.store.models import (
    Account,
    Contact,
    Conversation,
    Handle,
    Message,
    OutboxAction,
    PrivacyExposure,
    QuarantineEntry,
    SyncCursor,
)
from socialdesk.store.team_models import (
    ConversationHold,
    DeskPresence,
    PrivacyModeOverride,
    TeamRole,
)


def core_table(model: type[SQLModel]) -> Table:
    """The table a model class maps to."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


ACCOUNT = core_table(Account)
CONTACT = core_table(Contact)
CONVERSATION = core_table(Conversation)
CURSOR = core_table(SyncCursor)
EXPOSURE = core_table(PrivacyExposure)
HANDLE = core_table(Handle)
MESSAGE = core_table(Message)
OUTBOX = core_table(OutboxAction)
QUARANTINE = core_table(QuarantineEntry)
HOLD = core_table(ConversationHold)
PRESENCE = core_table(DeskPresence)
PRIVACY_MODE_OVERRIDE = core_table(PrivacyModeOverride)
TEAM_ROLE = core_table(TeamRole)
