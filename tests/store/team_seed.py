"""Conversations waiting for an answer, for the team-mode tests (take-next, live updates)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from socialdesk.store.models import Account, Conversation, Status

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def account(engine: Engine, name: str = "brand-x", platform: str = "x") -> int:
    with Session(engine) as session:
        row = Account(name=name, platform=platform, created_at=T0)
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def waiting(engine: Engine, account_id: int, minutes: int, *, status: Status = Status.NEW,
            channel: str = "mention", assignee: str | None = None,
            answered: bool = False) -> int:
    """A conversation whose customer wrote last `minutes` after T0 (answered: we did, after)."""
    inbound = T0 + timedelta(minutes=minutes)
    with Session(engine) as session:
        row = Conversation(
            account_id=account_id, channel=channel,
            visibility="private" if channel == "dm" else "public",
            thread_key=f"{account_id}-{minutes}-{channel}", status=status, assignee=assignee,
            opened_at=inbound, last_inbound_at=inbound, last_message_at=inbound,
            last_outbound_at=inbound + timedelta(minutes=1) if answered else None,
            created_at=inbound, updated_at=inbound)
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id
