"""How the reports name a Facebook customer, read back as a spreadsheet user reads them
(issue 17, point 21).

Facebook gives no username, only the name, and Graph leaves out who wrote some comments:
a Messenger message and a comment by Giulia, a visitor post whose author came without a
name, and a comment whose author Graph withheld.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from connectors.base import Channel, Direction, InboundItem, PullPage
from socialdesk.config import settings_from_mapping
from socialdesk.reports import ReportPeriod, ReportRequest, write_report
from socialdesk.store.ingest import ensure_account, ingest_page

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SETTINGS = settings_from_mapping({}, source="test")


def facebook_item(external_id: str, channel: Channel, author_id: str | None,
                  author_name: str | None, outbound: bool = False) -> InboundItem:
    """As connectors/facebook_parse.py reads it: `from.id` and `from.name`, no handle."""
    return InboundItem(
        platform="facebook", external_id=external_id, channel=channel,
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        thread_key=f"t{external_id}", text="ciao",
        created_at=datetime(2026, 11, 30, 10, int(external_id), tzinfo=UTC),
        author_id=author_id, author_name=author_name,
    )


def read(store: Engine, kind: str) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    with Session(store) as session:
        write_report(session, SETTINGS, ReportRequest(kind=kind, period=ReportPeriod()), out,
                     now=NOW)
    return list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))


def test_every_facebook_customer_is_named_alike_in_conversations_and_messages(
    store: Engine,
) -> None:
    account = ensure_account(store, "brand-fb", "facebook", now=NOW)
    items = [
        facebook_item("1", Channel.MESSENGER, "u1", "Giulia Bianchi"),
        facebook_item("2", Channel.COMMENT, None, None),  # Graph withheld the person
        facebook_item("3", Channel.VISITOR_POST, "u3", None),
        facebook_item("4", Channel.COMMENT, "u1", "Giulia Bianchi"),
    ]
    with Session(store) as session:
        ingest_page(session, account, PullPage("feed", items), now=NOW)
    conversations = read(store, "conversations")
    messages = read(store, "messages")
    assert [row["customer_handle"] for row in conversations] == [
        "Giulia Bianchi", "(unknown author)", "(unknown author)", "Giulia Bianchi"]
    assert [row["author_handle"] for row in messages] == [
        row["customer_handle"] for row in conversations]


def test_the_page_s_own_message_keeps_the_name_graph_gave(store: Engine) -> None:
    """Only a customer is ever `(unknown author)`; the Page's answer carries its name."""
    account = ensure_account(store, "brand-fb", "facebook", now=NOW)
    items = [facebook_item("1", Channel.MESSENGER, "u1", "Giulia Bianchi"),
             facebook_item("2", Channel.MESSENGER, "page", "Brand", outbound=True),
             facebook_item("3", Channel.MESSENGER, "page", None, outbound=True)]
    with Session(store) as session:
        ingest_page(session, account, PullPage("messenger", items), now=NOW)
    assert [(row["direction"], row["author_handle"]) for row in read(store, "messages")] == [
        ("inbound", "Giulia Bianchi"), ("outbound", "Brand"), ("outbound", "")]


def test_an_x_customer_is_still_named_by_the_username(store: Engine) -> None:
    account = ensure_account(store, "brand-x", "x", now=NOW)
    item = InboundItem(platform="x", external_id="1", channel=Channel.DM,
                       direction=Direction.INBOUND, thread_key="a", text="ciao",
                       created_at=datetime(2026, 11, 30, 10, tzinfo=UTC), author_id="c1",
                       author_handle="giulia_b", author_name="Giulia Bianchi")
    with Session(store) as session:
        ingest_page(session, account, PullPage("dms", [item]), now=NOW)
    assert read(store, "conversations")[0]["customer_handle"] == "giulia_b"
    assert read(store, "messages")[0]["author_handle"] == "giulia_b"
