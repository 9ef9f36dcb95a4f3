"""A third platform, registered from the test suite alone, goes through the whole desk.

"Parrot" is a made-up platform: a connector that reads JSON from a tiny local HTTP server
with requests, and a platform module with its own account settings, channel labels, text
limit and redirect plan. Both are registered by replacing the entry-point discovery
(`plugins.registered`); nothing in socialdesk/ knows them. One sync later the parrot's
messages are in the queue, the composer names the parrot's channel and limit, the guard
plans the parrot's redirect for a public message with a phone number, and the messages
report lists them.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
import requests
from sqlalchemy import Engine
from sqlmodel import Session, select

from connectors.base import (
    AccountSettings,
    ActionKind,
    Channel,
    Connector,
    Direction,
    InboundItem,
    PullPage,
)
from socialdesk import plugins
from socialdesk.config import AccountConfig, Settings, settings_from_mapping
from socialdesk.desk.answers import private_channel
from socialdesk.platforms.channel_rules import ChannelRuleError
from socialdesk.platforms.contract import (
    PlannedAction,
    Platform,
    PublicPost,
    Purpose,
    RedirectSteps,
    RedirectTexts,
)
from socialdesk.platforms.registry import channel_label, check_text
from socialdesk.reports import ReportRequest, write_report
from socialdesk.reports.csvout import ReportPeriod
from socialdesk.store.models import PrivacyExposure
from socialdesk.store.queries.conversation import conversation_view
from socialdesk.store.queries.queue import InboxFilter, inbox_choices, inbox_page
from socialdesk.sync import SyncContext, detector_for, sync_account
from socialdesk.tui.widgets.composer import describe_destination

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PHONE = "347 123 4567"
SQUAWKS = [
    {"id": "s1", "user_id": "u7", "user": "polly", "text": "Is my cracker order on its way?",
     "at": (NOW - timedelta(minutes=30)).isoformat(), "public": True},
    {"id": "s2", "user_id": "u8", "user": "kea", "text": f"call me back on {PHONE} please",
     "at": (NOW - timedelta(minutes=20)).isoformat(), "public": True},
    {"id": "s3", "user_id": "u7", "user": "polly", "text": "and privately: thanks!",
     "at": (NOW - timedelta(minutes=10)).isoformat(), "public": False},
]


# --- the parrot's connector and platform module, known to the test suite only ---------------


class ParrotConnector(Connector):
    """Reads every squawk after the cursor from `GET {base_url}/squawks?after=<id>`."""

    platform = "parrot"
    streams = ("squawks",)

    def __init__(self, account: AccountSettings) -> None:
        self.base_url = account.base_url or ""
        self.token = account.secrets["token"]

    def pull(self, stream: str, cursor: str | None) -> Iterator[PullPage]:
        response = requests.get(f"{self.base_url}/{stream}", params={"after": cursor or ""},
                                headers={"Authorization": f"Bearer {self.token}"}, timeout=5)
        response.raise_for_status()
        squawks = response.json()
        items = [_item(squawk) for squawk in squawks]
        yield PullPage(stream, items, cursor=squawks[-1]["id"] if squawks else cursor)


def _item(squawk: dict[str, Any]) -> InboundItem:
    channel = Channel.COMMENT if squawk["public"] else Channel.DM
    return InboundItem(
        platform="parrot", external_id=squawk["id"], channel=channel,
        direction=Direction.INBOUND,
        thread_key=squawk["id"] if squawk["public"] else f"nest-{squawk['user_id']}",
        text=squawk["text"], created_at=datetime.fromisoformat(squawk["at"]),
        author_id=squawk["user_id"], author_handle=squawk["user"],
    )


class ParrotAccount(AccountConfig):
    SECRET_KEYS: ClassVar[tuple[str, ...]] = ("token",)

    platform: Literal["parrot"]
    token_env: str

    def secret_env_names(self) -> dict[str, str]:
        return {"token": self.token_env}

    def options(self) -> dict[str, Any]:
        return {}


class ParrotPlatform(Platform):
    name = "parrot"
    display_name = "Parrot"
    account_model = ParrotAccount
    channel_labels = {Channel.COMMENT: "Parrot squawk", Channel.DM: "Parrot nest"}
    private_channel = Channel.DM
    private_channel_label = "the parrot's nest"
    messages_first = True

    def text_limit(self, kind: ActionKind) -> int:
        return 140 if kind is ActionKind.REPLY else 500

    def default_channel(self, kind: ActionKind) -> Channel:
        return Channel.COMMENT if kind is ActionKind.REPLY else Channel.DM

    def salutation(self, post: PublicPost) -> str:
        return f"~{post.author_handle}"

    def redirect_plan(
        self, post: PublicPost, texts: RedirectTexts, now: datetime  # noqa: ARG002
    ) -> RedirectSteps:
        """Parrots cannot hide a squawk: a message in the nest, nothing public."""
        nest = PlannedAction(Purpose.PRIVATE_MESSAGE, ActionKind.DIRECT_MESSAGE,
                             recipient_id=post.author_id, text=texts.private_message)
        return RedirectSteps((nest,), None, ("parrots cannot hide a squawk",))


PARROT = ParrotPlatform()


@dataclass(frozen=True)
class _Entry:
    """An entry point whose target is already in hand (the registry only calls `load`)."""

    name: str
    value: str
    group: str
    target: object

    def load(self) -> object:
        return self.target


@pytest.fixture
def parrot_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed platforms plus the parrot, through the one discovery seam."""
    installed = plugins.registered
    parrot = {plugins.CONNECTOR_GROUP: _Entry("parrot", "tests:ParrotConnector",
                                              plugins.CONNECTOR_GROUP, ParrotConnector),
              plugins.PLATFORM_GROUP: _Entry("parrot", "tests:PARROT", plugins.PLATFORM_GROUP,
                                             PARROT)}

    def registered(group: str) -> tuple[EntryPoint, ...]:
        return (*installed(group), parrot[group])  # type: ignore[return-value]

    monkeypatch.setattr(plugins, "registered", registered)


# --- the parrot's API: a few lines of http.server -------------------------------------------


class _ParrotAPI(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.headers.get("Authorization") != "Bearer parrot-secret":
            self.send_error(401)
            return
        after = self.path.partition("after=")[2]
        ids = [squawk["id"] for squawk in SQUAWKS]
        start = ids.index(after) + 1 if after in ids else 0
        body = json.dumps(SQUAWKS[start:]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the test output is not the place for access logs."""


@pytest.fixture
def parrot_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ParrotAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(parrot_registered: None, parrot_api: str, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PARROT_TOKEN", "parrot-secret")
    return settings_from_mapping({
        "database": {"url": f"sqlite:///{tmp_path / 'desk.db'}"},
        "privacy": {"mode": "suggest"},
        "accounts": [{"platform": "parrot", "name": "parrot-desk", "base_url": parrot_api,
                      "token_env": "PARROT_TOKEN"}],
    }, source="parrot.toml")


@pytest.fixture
def synced(settings: Settings, engine: Engine) -> Engine:
    context = SyncContext(settings, engine, detector_for(settings), lambda: NOW)
    result = sync_account(context, settings.account("parrot-desk"))
    assert result.error is None and result.skipped is None
    assert [stream.stream for stream in result.streams] == ["squawks"]
    return engine


# --- the proof --------------------------------------------------------------------------------


def test_the_config_reads_a_parrot_account_by_the_parrot_model(settings: Settings) -> None:
    account = settings.account("parrot-desk")
    assert isinstance(account, ParrotAccount)
    assert account.secret_env_names() == {"token": "PARROT_TOKEN"}


def test_parrot_messages_are_in_the_queue_with_the_parrot_labels(synced: Engine) -> None:
    rows = inbox_page(synced, InboxFilter(), None, 50, now=NOW)
    assert {row.platform for row in rows} == {"parrot"}
    assert sorted(channel_label(row.platform, row.channel) for row in rows) == [
        "Parrot nest", "Parrot squawk", "Parrot squawk"]
    assert inbox_choices(synced).channels == [("parrot", "comment"), ("parrot", "dm")]


def test_the_composer_names_the_parrot_channel_and_limit(synced: Engine) -> None:
    public = next(row for row in inbox_page(synced, InboxFilter(), None, 50, now=NOW)
                  if row.channel == Channel.COMMENT and "cracker" in row.preview)
    view = conversation_view(synced, public.id)
    assert view is not None
    newest = view.messages[-1]
    assert describe_destination(view, newest, private=False).description == (
        "PUBLIC reply on Parrot squawk to @polly: everyone can read it")
    kind = private_channel(synced, view.contact_id or 0, conversation_id=view.id, now=lambda: NOW)
    assert kind is ActionKind.DIRECT_MESSAGE
    assert describe_destination(view, newest, private=True, private_kind=kind.value
                                ).description == "PRIVATE message on the parrot's nest to @polly"
    check_text("parrot", ActionKind.REPLY, "k" * 140)
    with pytest.raises(ChannelRuleError, match="141 characters; an parrot reply allows 140"):
        check_text("parrot", ActionKind.REPLY, "k" * 141)


def test_the_guard_plans_the_parrot_redirect_for_a_phone_number(synced: Engine) -> None:
    with Session(synced) as session:
        exposures = session.exec(select(PrivacyExposure)).all()
    assert len(exposures) == 1
    exposure = exposures[0]
    assert exposure.types == "PHONE" and exposure.outcome == "suggested"
    assert [(step["purpose"], step["kind"], step["recipient_id"]) for step in exposure.plan] == [
        ("private_message", "direct_message", "u8")]
    assert "~kea" in exposure.plan[0]["text"]  # the parrot's salutation
    assert PHONE not in exposure.plan[0]["text"]


def test_the_messages_report_lists_the_parrot_messages(
    synced: Engine, settings: Settings
) -> None:
    out = io.StringIO()
    with Session(synced) as session:
        written = write_report(session, settings, ReportRequest("messages", ReportPeriod()),
                               out, now=NOW)
    assert written == 3
    header, *rows = csv.reader(io.StringIO(out.getvalue()))
    platform = header.index("platform")
    assert [row[platform] for row in rows] == ["parrot"] * 3
    assert PHONE not in out.getvalue()
