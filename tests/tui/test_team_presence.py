"""Who is where and live updates (issue 19 points 2 and 3): two desks on one PostgreSQL
database see each other within a second through LISTEN/NOTIFY, never by polling; an
answer a colleague sent while you typed is shown before yours goes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session, col, select
from textual.widgets import Static, TextArea

from socialdesk.desk.answers import reply
from socialdesk.desk.triage import set_status
from socialdesk.store.models import Message, OutboxAction, Status
from socialdesk.store.team import heartbeat, leave, present
from socialdesk.tui import live_feed, team_workers
from socialdesk.tui.app import DeskApp, make_app
from socialdesk.tui.context import Desk, Operator
from socialdesk.tui.presence import IDLE_SECONDS
from socialdesk.tui.screens.conversation_screen import ConversationScreen
from socialdesk.tui.screens.modals import ConfirmModal
from socialdesk.tui.widgets.composer import ComposerModal
from tests.tui.desk_fixture import NOW, settle
from tests.tui.screen_text import queue_lines, screen_text, widget_text
from tests.tui.team_fixture import (
    NEVER,
    colleagues_line,
    desk_of,
    in_conversation,
    notifications,
    open_conversation,
    press_and_settle,
    running,
    team_desk,
    two_desks,
    until,
)
from tests.tui.test_desk import conversation_of

POSTGRES_ONLY = pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)

MARCO = "refund for booking"


def row_of(app: DeskApp, customer: str) -> str:
    return next((line for line in queue_lines(app) if customer in line), "")


def outbox_by(store: Engine, initials: str) -> list[str]:
    with Session(store) as session:
        return [row.text or "" for row in session.exec(
            select(OutboxAction).where(OutboxAction.requested_by == initials)
            .order_by(col(OutboxAction.id)))]


@POSTGRES_ONLY
async def test_the_other_desk_sees_who_types_in_the_queue_and_the_conversation(
    desk_store: Engine
) -> None:
    async with two_desks(desk_store, live=True) as (ab, cd):
        await open_conversation(ab, "Anna")
        await until(cd, lambda: "AB " in row_of(desk_of(cd), "Anna"),
                    "CD's queue shows AB on Anna's conversation")
        await press_and_settle(ab, "r")
        await ab.press(*"Ciao")
        await until(cd, lambda: "AB✎" in row_of(desk_of(cd), "Anna"),
                    "CD's queue shows AB typing in Anna's conversation")
        await open_conversation(cd, "Anna")
        assert colleagues_line(desk_of(cd)) == "AB is answering this"
        await press_and_settle(cd, "r")
        assert isinstance(desk_of(cd).screen, ConfirmModal)
        assert "AB is answering this: answer anyway?" in screen_text(desk_of(cd))
        # AB drops the draft and leaves the conversation
        await press_and_settle(ab, "ctrl+l", "escape")
        await press_and_settle(cd, "n")
        await until(cd, lambda: colleagues_line(desk_of(cd)) == "",
                    "CD's conversation no longer names AB")


@POSTGRES_ONLY
async def test_a_status_changed_on_one_desk_reaches_the_other_queue_without_polling(
    desk_store: Engine
) -> None:
    """CD's desk would poll only every hour (`NEVER`): the news comes by LISTEN."""
    async with two_desks(desk_store, live=True) as (ab, cd):
        assert "new" in row_of(desk_of(cd), "Giulia")
        await open_conversation(ab, "Giulia")
        await press_and_settle(ab, "3")
        await until(cd, lambda: "resolved" in row_of(desk_of(cd), "Giulia"),
                    "CD's queue shows Giulia's conversation resolved")


@POSTGRES_ONLY
async def test_a_lost_feed_connection_reconnects_and_catches_up(desk_store: Engine) -> None:
    """The feed's connection is killed on the server: the desk stays up, and the change
    written meanwhile reaches its queue once the feed is back."""
    async with two_desks(desk_store, live=True) as (ab, cd):
        url = desk_store.url.render_as_string(hide_password=False)
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            killed = connection.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query ILIKE 'LISTEN%'")).scalar()
        admin.dispose()
        assert killed
        await open_conversation(ab, "Hostile")
        await press_and_settle(ab, "2")
        await until(cd, lambda: "open" in row_of(desk_of(cd), "Hostile"),
                    "CD's queue shows the hostile mention open after the reconnection")
        assert desk_of(cd).is_running


async def test_a_desk_polling_sqlite_learns_who_is_where_at_its_heartbeat(
    desk_store: Engine
) -> None:
    """Without a feed (SQLite; PostgreSQL too when asked at a heartbeat)."""
    marco = conversation_of(desk_store, MARCO).id or 0
    app = team_desk(desk_store, "AB")
    async with running(app) as pilot:
        heartbeat(desk_store, "cd-desk", "CD", conversation_id=marco, typing=True)
        app.heartbeats.tick()
        await settle(pilot)
        assert "CD✎" in row_of(app, "Marco")
        await open_conversation(pilot, "Marco")
        assert colleagues_line(app) == "CD is answering this"


async def test_an_answer_a_colleague_sent_while_you_typed_is_shown_before_yours(
    desk_store: Engine
) -> None:
    marco = conversation_of(desk_store, MARCO).id or 0
    app = team_desk(desk_store, "AB")
    async with in_conversation(app, "Marco") as pilot:
        await press_and_settle(pilot, "r")
        assert isinstance(app.screen, ComposerModal)
        await pilot.press(*"Looking into it now")
        reply(desk_store, marco, "All sorted this morning", "CD", now=lambda: NOW)
        await press_and_settle(pilot, "ctrl+s")
        assert isinstance(app.screen, ConfirmModal)
        question = screen_text(app)
        assert "While you were writing" in question
        assert "CD" in question and "All sorted this morning" in question
        await press_and_settle(pilot, "n")
        assert outbox_by(desk_store, "AB") == []
        await press_and_settle(pilot, "r")  # the draft is still there; their answer is known now
        assert app.screen.query_one(TextArea).text == "Looking into it now"
        await press_and_settle(pilot, "ctrl+s")
        assert isinstance(app.screen, ConversationScreen)
    assert outbox_by(desk_store, "AB") == ["Looking into it now"]


async def test_sending_yours_as_well_after_seeing_theirs(desk_store: Engine) -> None:
    marco = conversation_of(desk_store, MARCO).id or 0
    app = team_desk(desk_store, "AB")
    async with in_conversation(app, "Marco") as pilot:
        await press_and_settle(pilot, "r")
        await pilot.press(*"Anything else?")
        reply(desk_store, marco, "All sorted this morning", "CD", now=lambda: NOW)
        await press_and_settle(pilot, "ctrl+s")
        assert isinstance(app.screen, ConfirmModal)
        assert outbox_by(desk_store, "AB") == []
        await press_and_settle(pilot, "y")
    assert outbox_by(desk_store, "AB") == ["Anything else?"]


async def test_a_feed_that_fails_never_takes_the_desk_down(
    desk_store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the feed raises, the thread waits and listens again; then everything is
    read again (the queue shows what changed meanwhile)."""
    raised: list[str] = []

    class BrokenOnce:
        def wait(self, timeout: float) -> list[object]:  # noqa: ARG002
            if not raised:
                raised.append("once")
                raise OSError("connection reset")
            return []

        def close(self) -> None:
            pass

    monkeypatch.setattr(live_feed, "RETRY_SECONDS", 0.0)
    app = team_desk(desk_store, "AB")
    feed = live_feed.LiveFeed(app, desk_store, opener=lambda _engine: BrokenOnce())  # type: ignore[arg-type,return-value]
    async with running(app) as pilot:
        reloads = app.screen._generation  # type: ignore[attr-defined]
        feed.start()
        await until(pilot, lambda: app.screen._generation > reloads,  # type: ignore[attr-defined]
                    "the queue read again after the feed came back")
        feed.stop()
        assert raised == ["once"] and app.is_running


async def test_an_idle_desk_stops_saying_where_it_is_until_its_next_key(
    desk_store: Engine
) -> None:
    """Colleagues stop seeing a desk nobody has touched for `IDLE_SECONDS` (its presence
    expires, its holds with it); the next key brings it back."""
    clock = [NOW]
    app = make_app(Desk(engine=desk_store, operator=Operator("AB"), clock=lambda: clock[0],
                        poll_seconds=0, heartbeat_seconds=NEVER))
    async with running(app) as pilot:
        assert [desk.initials for desk in present(desk_store)] == ["AB"]
        leave(desk_store, app.desk.desk_id)  # as the store does once a presence expires
        clock[0] = NOW + timedelta(seconds=IDLE_SECONDS + 1)
        app.heartbeats.tick()
        await settle(pilot)
        assert present(desk_store) == []
        await press_and_settle(pilot, "down")
        assert [desk.initials for desk in present(desk_store)] == ["AB"]


async def test_an_answer_sent_from_the_platforms_own_app_meanwhile_is_shown_too(
    desk_store: Engine
) -> None:
    """No outbox row: someone answered on X itself, and the sync brought it in."""
    conversation = conversation_of(desk_store, MARCO)
    app = team_desk(desk_store, "AB")
    async with in_conversation(app, "Marco") as pilot:
        await press_and_settle(pilot, "r")
        await pilot.press(*"Looking into it now")
        with Session(desk_store) as session:
            session.add(Message(
                account_id=conversation.account_id, conversation_id=conversation.id or 0,
                platform="x", external_id="from-the-app", channel="dm",
                visibility="private", direction="outbound", author_handle="brand",
                text="Sorted from the phone", created_at=NOW, ingested_at=NOW, raw={}))
            session.commit()
        await press_and_settle(pilot, "ctrl+s")
        assert isinstance(app.screen, ConfirmModal)
        assert "brand" in screen_text(app) and "Sorted from the phone" in screen_text(app)


@POSTGRES_ONLY
async def test_the_conversation_open_on_a_desk_follows_a_colleagues_change(
    desk_store: Engine
) -> None:
    hostile = conversation_of(desk_store, "free").id or 0
    app = team_desk(desk_store, "AB", live=True)
    async with in_conversation(app, "Hostile") as pilot:
        assert "NEW" in summary(app)
        set_status(desk_store, hostile, Status.OPEN, "CD", now=lambda: NOW)
        await until(pilot, lambda: "OPEN" in summary(app),
                    "the conversation's summary says OPEN after CD's change")


def summary(app: DeskApp) -> str:
    return widget_text(app.screen.query_one("#summary", Static).content)


async def test_a_heartbeat_that_fails_is_said_once_and_the_desk_goes_on(
    desk_store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("server closed the connection unexpectedly")

    app = team_desk(desk_store, "AB")
    async with running(app) as pilot:
        monkeypatch.setattr(team_workers, "heartbeat", unreachable)
        for _ in range(3):
            app.heartbeats.tick()
            await settle(pilot)
        told = [note for note in notifications(app) if "presence is not updated" in note]
        assert told == ["Colleagues' presence is not updated: server closed the connection "
                        "unexpectedly"]
        await open_conversation(pilot, "Anna")  # the desk still answers its keys
