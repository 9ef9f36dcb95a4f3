"""Answering through the outbox against the sandbox: real tweepy and requests, real faults.

Every fault case ends with exactly one message on the platform, or none and a visible
`failed`/`unknown` row; never two.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from socialdesk.clock import system_clock
from socialdesk.config import Settings, load_settings
from socialdesk.desk import answers, outbox
from socialdesk.desk.outbox_queue import OutboxError
from socialdesk.desk.outbox_review import retry
from socialdesk.platforms.channel_rules import ChannelRuleError
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.store.db import open_store
from socialdesk.store.models import (
    AuditEntry,
    Conversation,
    Handle,
    Message,
    OutboxAction,
    PrivacyExposure,
)
from socialdesk.sync import sync_accounts

TOKEN = "sandbox-secret-outbox-1"
OUTBOX_SECTION = "\n[outbox]\nmax_attempts = 3\nretry_base_seconds = 0.01\n"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=7, static=True, messages=40, timeout_seconds=0.3) as server:
        server.start()
        yield server


@pytest.fixture
def config_path(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SANDBOX_TOKEN_ENV, TOKEN)
    path = write_config(tmp_path / "config.toml", sandbox.base_url)
    path.write_text(path.read_text() + OUTBOX_SECTION)
    return path


@pytest.fixture
def settings(config_path: Path) -> Settings:
    return load_settings(config_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    store = open_store(settings.database.effective_url)
    results = sync_accounts(settings, store, clock=system_clock)
    assert all(result.ok for result in results)
    yield store
    store.dispose()


def conversation(engine: Engine, channel: str) -> Conversation:
    """The conversation of `channel` with the newest customer message, among those a public
    answer may go to now: not waiting for a privacy redirect (the guard runs in `suggest`
    mode here, and a public answer waits for it: tests/cli/test_public_answer_hold.py)."""
    waiting = select(PrivacyExposure.conversation_id).where(
        PrivacyExposure.outcome == "suggested")
    with Session(engine) as session:
        found = session.exec(
            select(Conversation).where(Conversation.channel == channel,
                                       col(Conversation.last_inbound_at).is_not(None),
                                       col(Conversation.id).not_in(waiting))
            .order_by(col(Conversation.last_inbound_at).desc())
        ).first()
    assert found is not None, f"the sandbox data set has no {channel} conversation"
    return found


def delivered(sandbox: SandboxServer, kind: str | None = None) -> list[dict[str, object]]:
    """Writes the platform performed (what a customer would see)."""
    return [a for a in sandbox.state()["actions"]
            if a["ok"] and (kind is None or a["kind"] == kind)]


def stored_copies(engine: Engine, platform: str, external_id: str | None) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Message).where(
            Message.platform == platform, Message.external_id == external_id)).all())


# --- each send path -----------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "sandbox_kind"), [
    ("mention", "x.reply"), ("dm", "x.dm"),
    ("comment", "facebook.reply"), ("visitor_post", "facebook.reply"),
])
def test_a_reply_goes_out_once_on_the_conversations_channel_and_its_echo_adds_nothing(
    sandbox: SandboxServer, settings: Settings, engine: Engine, channel: str, sandbox_kind: str
) -> None:
    target = conversation(engine, channel)
    queued = answers.reply(engine, target.id or 0, f"Ci pensiamo noi ({channel}).", "AB",
                         settings=settings, now=system_clock)
    sent = outbox.send_now(engine, settings, queued.id or 0, now=system_clock)
    assert sent.state == "sent" and sent.external_id
    assert [a["assigned_id"] for a in delivered(sandbox)] == [sent.external_id]
    assert delivered(sandbox)[0]["kind"] == sandbox_kind
    with Session(engine) as session:
        message = session.exec(select(Message).where(Message.external_id == sent.external_id)).one()
    assert message.direction == "outbound" and message.conversation_id == target.id
    sync_accounts(settings, engine, clock=system_clock)
    assert stored_copies(engine, sent.platform, sent.external_id) == 1


def test_queuing_the_same_answer_twice_sends_it_once(
    sandbox: SandboxServer, settings: Settings, engine: Engine
) -> None:
    target = conversation(engine, "mention")
    first = answers.reply(engine, target.id or 0, "Grazie della pazienza!", "AB", now=system_clock)
    second = answers.reply(engine, target.id or 0, "Grazie della pazienza!", "CD", now=system_clock)
    assert first.id == second.id
    outbox.dispatch_due(engine, settings, now=system_clock)
    outbox.dispatch_due(engine, settings, now=system_clock)
    assert len(delivered(sandbox, "x.reply")) == 1
    with Session(engine) as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "reply")).all()
    assert [(entry.actor, entry.detail["queued"]) for entry in audit] == [("AB", True),
                                                                          ("CD", False)]


def test_hiding_and_unhiding_a_comment_is_seen_by_the_platform(
    sandbox: SandboxServer, settings: Settings, engine: Engine
) -> None:
    with Session(engine) as session:
        comment = session.exec(select(Message).where(
            Message.channel == "comment", Message.direction == "inbound")).first()
    assert comment is not None
    hide = answers.hide(engine, comment.id or 0, "AB", now=system_clock)
    hidden = outbox.send_now(engine, settings, hide.id or 0, now=system_clock)
    assert hidden.state == "sent"
    assert sandbox.store.comments[comment.external_id].hidden is True
    unhide = answers.unhide(engine, comment.id or 0, "AB", now=system_clock)
    shown = outbox.send_now(engine, settings, unhide.id or 0, now=system_clock)
    assert shown.state == "sent"
    assert sandbox.store.comments[comment.external_id].hidden is False
    again = answers.hide(engine, comment.id or 0, "AB", now=system_clock)
    assert again.id not in (hidden.id, shown.id)


def test_a_private_reply_to_a_comment_goes_out_once_and_lands_in_messenger(
    sandbox: SandboxServer, settings: Settings, engine: Engine
) -> None:
    target = conversation(engine, "comment")
    assert target.contact_id is not None
    queued = answers.send_private(engine, target.contact_id, "Le scriviamo in privato.", "AB",
                                conversation_id=target.id, now=system_clock)
    assert queued.kind == "private_reply"
    sent = outbox.send_now(engine, settings, queued.id or 0, now=system_clock)
    assert sent.state == "sent"
    assert len(delivered(sandbox, "facebook.private_reply")) == 1
    with Session(engine) as session:
        message = session.exec(select(Message).where(Message.external_id == sent.external_id)).one()
        landed = session.get(Conversation, message.conversation_id)
    assert landed is not None and landed.channel == "messenger"
    assert landed.contact_id == target.contact_id, "the private conversation is on the card"
    with pytest.raises(ChannelRuleError, match="one private reply per comment"):
        answers.send_private(engine, target.contact_id, "Un secondo messaggio.", "AB",
                           conversation_id=target.id, now=system_clock)


def test_messenger_after_24_hours_needs_a_human_and_the_human_agent_feature(
    sandbox: SandboxServer, settings: Settings, config_path: Path, engine: Engine
) -> None:
    target = conversation(engine, "messenger")
    age = system_clock() - (target.last_inbound_at or system_clock())
    assert timedelta(hours=24) < age < timedelta(days=7), "seed 7 changed its Messenger data"
    with pytest.raises(ChannelRuleError, match="Human Agent"):
        answers.reply(engine, target.id or 0, "Eccoci.", "AB", settings=settings, now=system_clock)
    config_path.write_text(config_path.read_text().replace(
        'graph_version = "v25.0"', 'graph_version = "v25.0"\nhuman_agent = true'))
    with_feature = load_settings(config_path)
    with pytest.raises(ChannelRuleError):
        answers.reply(engine, target.id or 0, "Eccoci.", "BOT", settings=with_feature,
                    automated=True, now=system_clock)
    queued = answers.reply(engine, target.id or 0, "Eccoci.", "AB", settings=with_feature,
                         now=system_clock)
    assert outbox.send_now(engine, with_feature, queued.id or 0, now=system_clock).state == "sent"
    [action] = delivered(sandbox, "facebook.message")
    assert (action["messaging_type"], action["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_a_dm_to_someone_who_wrote_in_public_opens_a_conversation_on_their_card(
    sandbox: SandboxServer, settings: Settings, engine: Engine
) -> None:
    open_to_dms = {c.x_id for c in sandbox.scenario.customers if c.accepts_dms}
    with Session(engine) as session:
        in_dms = set(session.exec(select(Conversation.contact_id).where(
            Conversation.channel == "dm")).all())
        contact_id = next(
            handle.contact_id for handle in session.exec(select(Handle).where(
                Handle.platform == "x")).all()
            if handle.external_user_id in open_to_dms and handle.contact_id not in in_dms)
    sent = outbox.send_now(engine, settings, answers.send_private(
        engine, contact_id, "Ti scriviamo in privato.", "AB", now=system_clock).id or 0,
        now=system_clock)
    assert sent.state == "sent"
    with Session(engine) as session:
        message = session.exec(select(Message).where(Message.external_id == sent.external_id)).one()
        dm = session.get(Conversation, message.conversation_id)
    assert dm is not None and dm.channel == "dm" and dm.contact_id == contact_id


def test_a_dm_the_customer_refuses_fails_with_the_reason(
    sandbox: SandboxServer, settings: Settings, engine: Engine
) -> None:
    target = conversation(engine, "mention")
    with Session(engine) as session:
        author = session.exec(select(Message.author_external_id).where(
            Message.conversation_id == target.id, Message.direction == "inbound")).first()
    sandbox.store.x_users[str(author)].accepts_dms = False
    for event in list(sandbox.store.dm_events.values()):
        if str(author) in event.dm_conversation_id:
            del sandbox.store.dm_events[event.id]
    queued = answers.send_private(engine, target.contact_id or 0, "Ci scriva in DM.", "AB",
                                conversation_id=target.id, now=system_clock)
    failed = outbox.send_now(engine, settings, queued.id or 0, now=system_clock)
    assert failed.state == "failed"
    assert "does not accept direct messages" in (failed.last_error or "")
    assert delivered(sandbox) == []


# --- faults during send ---------------------------------------------------------------------


def _reply(engine: Engine, channel: str, text: str) -> OutboxAction:
    conversation_id = conversation(engine, channel).id or 0
    return answers.reply(engine, conversation_id, text, "AB", now=system_clock)


ENDPOINT = {"mention": "x.tweets", "comment": "facebook.reply"}


def _send_through_fault(
    sandbox: SandboxServer, settings: Settings, engine: Engine, channel: str, fault: str,
    count: int = 1,
) -> OutboxAction:
    """A public answer queued, the platform set to fail `count` times, one send: the outbox
    row after it."""
    queued = _reply(engine, channel, "Risolto, grazie.")
    sandbox.inject({"target": ENDPOINT[channel], "kind": fault, "count": count})
    return outbox.send_now(engine, settings, queued.id or 0, now=system_clock)


@pytest.mark.parametrize("channel", ["mention", "comment"])
def test_one_server_error_is_retried_and_the_answer_goes_out_once(
    sandbox: SandboxServer, settings: Settings, engine: Engine, channel: str
) -> None:
    sent = _send_through_fault(sandbox, settings, engine, channel, "server_error")
    assert (sent.state, sent.attempts) == ("sent", 2)
    assert len(delivered(sandbox)) == 1


@pytest.mark.parametrize("channel", ["mention", "comment"])
def test_a_server_error_storm_ends_failed_with_nothing_sent(
    sandbox: SandboxServer, settings: Settings, engine: Engine, channel: str
) -> None:
    failed = _send_through_fault(sandbox, settings, engine, channel, "server_error", 10)
    assert (failed.state, failed.attempts) == ("failed", 3)
    assert "gave up after 3 attempts" in (failed.last_error or "")
    assert delivered(sandbox) == []


@pytest.mark.parametrize("channel", ["mention", "comment"])
def test_a_timeout_leaves_an_unknown_row_that_a_human_can_send_once(
    sandbox: SandboxServer, settings: Settings, engine: Engine, channel: str
) -> None:
    doubtful = _send_through_fault(sandbox, settings, engine, channel, "timeout")
    assert doubtful.state == "unknown"
    assert "not found among the platform's recent items" in (doubtful.last_error or "")
    assert outbox.dispatch_due(engine, settings, now=system_clock).actions == []
    assert delivered(sandbox) == []
    with pytest.raises(OutboxError, match="--yes"):
        retry(engine, settings, doubtful.id or 0, "AB", checked=False, now=system_clock)
    retry(engine, settings, doubtful.id or 0, "AB", checked=True, now=system_clock)
    assert outbox.send_now(engine, settings, doubtful.id or 0, now=system_clock).state == "sent"
    assert len(delivered(sandbox)) == 1


@pytest.mark.parametrize("channel", ["mention", "comment"])
def test_a_success_without_an_id_is_found_on_the_platform_and_not_resent(
    sandbox: SandboxServer, settings: Settings, engine: Engine, channel: str
) -> None:
    sent = _send_through_fault(sandbox, settings, engine, channel, "malformed")
    assert sent.state == "sent"
    [action] = delivered(sandbox)
    assert sent.external_id == action["assigned_id"]
    assert stored_copies(engine, sent.platform, sent.external_id) == 1


@pytest.mark.parametrize("channel", ["mention", "comment"])
def test_a_429_waits_for_the_reset_and_then_sends_once(
    sandbox: SandboxServer, settings: Settings, engine: Engine, channel: str
) -> None:
    waiting = _send_through_fault(sandbox, settings, engine, channel, "rate_limit")
    assert waiting.state == "pending" and waiting.next_attempt_at is not None
    assert waiting.next_attempt_at > system_clock() + timedelta(minutes=1)
    assert outbox.dispatch_due(engine, settings, now=system_clock).actions == []
    later = waiting.next_attempt_at + timedelta(seconds=1)
    outbox.dispatch_due(engine, settings, now=lambda: later)
    assert len(delivered(sandbox)) == 1


@pytest.mark.parametrize("channel", ["mention", "comment"])
def test_an_expired_token_fails_visibly_and_sends_nothing(
    sandbox: SandboxServer, settings: Settings, engine: Engine, channel: str
) -> None:
    failed = _send_through_fault(sandbox, settings, engine, channel, "expired_token")
    assert failed.state == "failed"
    assert "token" in (failed.last_error or "").lower() or "credentials" in (
        failed.last_error or "")
    assert delivered(sandbox) == []


# --- a crash between the API call and the commit ------------------------------------------

KILLED_DISPATCHER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from socialdesk.desk import outbox
    from socialdesk.clock import system_clock
    from socialdesk.config import load_settings
    from socialdesk.store.db import open_store

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    outbox.record_sent = killed
    settings = load_settings(Path(sys.argv[1]))
    engine = open_store(settings.database.effective_url)
    outbox.send_now(engine, settings, int(sys.argv[2]), now=system_clock)
""")


@pytest.mark.parametrize("action", ["x_reply", "x_dm", "facebook_private_reply",
                                    "facebook_reply"])
def test_a_dispatcher_killed_after_sending_leaves_one_message_found_on_recovery(
    sandbox: SandboxServer, settings: Settings, config_path: Path, engine: Engine, action: str
) -> None:
    queued = _queue_for_crash(engine, action)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_DISPATCHER, str(config_path), str(queued.id)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
    )
    assert killed.returncode == -9, killed.stderr
    with Session(engine) as session:
        assert (session.get(OutboxAction, queued.id) or queued).state == "sending"
    assert len(delivered(sandbox)) == 1
    outbox.dispatch_due(engine, settings, now=system_clock)  # the claimer's process is gone
    with Session(engine) as session:
        row = session.get(OutboxAction, queued.id)
    assert row is not None and row.state == "sent"
    assert [a["assigned_id"] for a in delivered(sandbox)] == [row.external_id]
    assert stored_copies(engine, row.platform, row.external_id) == 1


def test_a_claim_from_another_host_waits_for_the_stale_time(
    sandbox: SandboxServer, settings: Settings, config_path: Path, engine: Engine
) -> None:
    queued = _queue_for_crash(engine, "x_reply")
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_DISPATCHER, str(config_path), str(queued.id)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
    )
    assert killed.returncode == -9, killed.stderr
    with Session(engine) as session:  # as if a dispatcher on another host had it
        session.exec(update(OutboxAction).where(col(OutboxAction.id) == queued.id)  # type: ignore[call-overload]
                     .values(claimed_by="other-host:4242:1.00:abcdef12"))
        session.commit()
    assert outbox.dispatch_due(engine, settings, now=system_clock).actions == []
    after_stale = system_clock() + timedelta(seconds=settings.outbox.stale_sending_seconds + 1)
    outbox.dispatch_due(engine, settings, now=lambda: after_stale)
    with Session(engine) as session:
        row = session.get(OutboxAction, queued.id)
    assert row is not None and row.state == "sent"
    assert len(delivered(sandbox)) == 1


def _queue_for_crash(engine: Engine, action: str) -> OutboxAction:
    if action == "x_reply":
        return _reply(engine, "mention", "Risolto, grazie.")
    if action == "x_dm":
        return _reply(engine, "dm", "Le abbiamo risposto.")
    if action == "facebook_reply":
        return _reply(engine, "comment", "Risolto, grazie.")
    target = conversation(engine, "comment")
    return answers.send_private(engine, target.contact_id or 0, "Le scriviamo in privato.", "AB",
                              conversation_id=target.id, now=system_clock)


# --- the CLI ------------------------------------------------------------------------------


def socialdesk(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "socialdesk", *args, "--config", str(config_path)],
        capture_output=True, text=True, timeout=120, env={**os.environ, SANDBOX_TOKEN_ENV: TOKEN},
    )


def test_the_reply_command_sends_at_once_and_the_outbox_lists_it(
    sandbox: SandboxServer, config_path: Path, engine: Engine
) -> None:
    target = conversation(engine, "comment")
    replied = socialdesk(config_path, "reply", str(target.id), "--text", "Fatto!", "--as", "AB")
    assert replied.returncode == 0, replied.stderr
    assert ": sent (facebook reply), platform id " in replied.stdout
    listed = socialdesk(config_path, "outbox")
    assert listed.returncode == 0, listed.stderr
    assert "\tsent\tfacebook\treply\t1\tAB\t" in listed.stdout
    too_long = socialdesk(config_path, "reply", str(conversation(engine, "mention").id),
                          "--text", "x" * 281, "--as", "AB")
    assert too_long.returncode == 2
    assert "281 characters" in too_long.stderr and "allows 280" in too_long.stderr
    assert len(delivered(sandbox)) == 1
    assert TOKEN not in replied.stdout + replied.stderr + listed.stdout


def test_reply_says_it_is_retrying_when_the_platform_answers_503_first(
    sandbox: SandboxServer, config_path: Path, engine: Engine
) -> None:
    target = conversation(engine, "mention")
    sandbox.inject({"target": ENDPOINT["mention"], "kind": "server_error", "count": 1})
    replied = socialdesk(config_path, "reply", str(target.id), "--text", "Ci siamo!", "--as", "AB")
    assert replied.returncode == 0, replied.stderr
    [notice] = [line for line in replied.stderr.splitlines() if "retrying in" in line]
    assert re.fullmatch(r"outbox action \d+: .*503.*; retrying in [\d.]+ s \(attempt 2 of 3\)",
                        notice), notice
    assert ": sent (x reply), platform id " in replied.stdout
    assert len(delivered(sandbox)) == 1


def test_reply_and_retry_sign_with_the_configured_initials_and_the_hint_works(
    sandbox: SandboxServer, config_path: Path, settings: Settings, engine: Engine
) -> None:
    """Without `--as`, `[operator] initials` sign; the unknown state's hint runs as printed."""
    config_path.write_text(config_path.read_text() + '\n[operator]\ninitials = "GB"\n')
    replied = socialdesk(config_path, "reply", str(conversation(engine, "comment").id),
                         "--text", "Fatto!")
    assert replied.returncode == 0, replied.stderr
    doubtful = _send_through_fault(sandbox, settings, engine, "mention", "timeout")
    assert doubtful.state == "unknown"
    hint = re.search(r"`socialdesk (outbox retry \d+ --yes)`", doubtful.last_error or "")
    assert hint is not None, doubtful.last_error
    retried = socialdesk(config_path, *hint.group(1).split())
    assert retried.returncode == 0, retried.stderr
    assert f"outbox action {doubtful.id}: sent" in retried.stdout
    listed = socialdesk(config_path, "outbox")
    assert listed.stdout.count("\tsent\t") == 2
    assert listed.stdout.count("\tGB\t") == 1, listed.stdout  # the reply; AB queued the other
    with Session(engine) as session:
        retry = session.exec(select(AuditEntry).where(
            AuditEntry.target_id == str(doubtful.id), AuditEntry.action == "outbox.retry")).one()
    assert retry.actor == "GB"


@pytest.mark.parametrize("command", [["reply", "1", "--text", "Fatto!"],
                                     ["outbox", "retry", "1"], ["tui"]])
def test_initials_are_checked_by_one_rule_everywhere(
    sandbox: SandboxServer, config_path: Path, command: list[str]
) -> None:
    refused = socialdesk(config_path, *command, "--as", "G B")
    assert refused.returncode == 2
    assert "usage error: --as 'G B': initials are 1 to 8 letters, digits or dots" in refused.stderr
    assert delivered(sandbox) == []
