"""A bare code that answers the brand's question is personal data, at ingest and at a rescan.

"it's 112-4563" means nothing alone; after "what is your order number?" it is the
customer's order number. The detector reads the brand's previous message in the thread
(issue 15 point 5); ingest and `privacy rescan` hand it that message, so both find the
same thing.
"""

from __future__ import annotations

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from connectors.base import Channel, Direction, PullPage
from socialdesk.clock import system_clock
from socialdesk.config import settings_from_mapping
from socialdesk.privacy.rescan import rescan_store
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.models import Message
from socialdesk.sync import detector_for, spans_finder
from tests.support import item

SETTINGS = settings_from_mapping({"accounts": [{
    "name": "brand-x", "platform": "x", "user_id": "1", "bearer_token_env": "T",
    "consumer_key_env": "T", "consumer_secret_env": "T", "access_token_env": "T",
    "access_token_secret_env": "T"}]}, source="test")
QUESTION = "Ciao! Qual è il tuo numero d'ordine, per favore?"
ANSWER = "è 112-4563"


def ingest(store: Engine, *items: object) -> None:
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    with Session(store) as session:
        ingest_page(session, account, PullPage("dms", list(items)),  # type: ignore[arg-type]
                    now=system_clock(), find_spans=spans_finder(detector_for(SETTINGS)))
        session.commit()


def types_of(store: Engine, external_id: str) -> str | None:
    with Session(store) as session:
        return session.exec(select(Message.pii_types)
                            .where(Message.external_id == external_id)).one()


def dm(external_id: str, text: str, minutes: int, direction: Direction) -> object:
    return item(external_id, channel=Channel.DM, thread_key="dm-anna", text=text,
                minutes=minutes, direction=direction,
                author="brand" if direction is Direction.OUTBOUND else "anna")


def test_the_answer_in_the_same_page_as_the_question(store: Engine) -> None:
    ingest(store, dm("q", QUESTION, 0, Direction.OUTBOUND), dm("a", ANSWER, 1, Direction.INBOUND))
    assert types_of(store, "a") == "REFERENCE"


def test_the_answer_in_a_later_page_than_the_question(store: Engine) -> None:
    ingest(store, dm("q", QUESTION, 0, Direction.OUTBOUND))
    ingest(store, dm("a", ANSWER, 1, Direction.INBOUND), dm("b", "112-4563", 2,
                                                             Direction.INBOUND))
    assert types_of(store, "a") == "REFERENCE"


def test_the_same_words_with_no_question_are_nothing(store: Engine) -> None:
    ingest(store, dm("hi", "Ciao, come va?", 0, Direction.OUTBOUND),
           dm("a", ANSWER, 1, Direction.INBOUND))
    assert types_of(store, "a") is None


def test_a_rescan_reads_the_question_too(store: Engine) -> None:
    """A history walked newest first stores the answer before the question: the rescan,
    which reads the thread in order, finds it."""
    ingest(store, dm("a", ANSWER, 1, Direction.INBOUND))
    ingest(store, dm("q", QUESTION, 0, Direction.OUTBOUND))
    assert types_of(store, "a") is None
    report = rescan_store(store, SETTINGS, ["brand-x"], now=system_clock)
    assert types_of(store, "a") == "REFERENCE"
    assert report.changed == 1
    with Session(store) as session:  # a rescan of an unchanged store changes nothing
        session.exec(update(Message).values(privacy_state=None))  # type: ignore[call-overload]
        session.commit()
    assert rescan_store(store, SETTINGS, ["brand-x"], now=system_clock).changed == 0
