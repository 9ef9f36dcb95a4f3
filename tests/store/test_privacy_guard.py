"""The guard's records: exposures wait for an operator in suggest mode, nothing is sent;
what ingest marks `undecided` is decided by the next pass, whichever pass stored it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from connectors.base import Channel, Direction, PullPage
from socialdesk.clock import system_clock
from socialdesk.config import Settings, load_settings
from socialdesk.privacy.detect import Detector
from socialdesk.privacy.guard import guard_undecided, undecided_batch
from socialdesk.privacy.redirect import GuardError
from socialdesk.privacy.suggestions import (
    contact_exposures,
    dismiss_suggestion,
    pending_suggestions,
)
from socialdesk.sandbox import SANDBOX_TOKEN_ENV, SandboxServer, write_config
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.models import AuditEntry, Conversation, Message, OutboxAction, PrivacyExposure
from socialdesk.sync import spans_finder, sync_accounts
from tests.support import item, writes_sent_twice

IBAN = "IT60X0542811101000000123456"
X_ACCOUNT = {"name": "brand-x", "platform": "x", "user_id": "99", "bearer_token_env": "A",
             "consumer_key_env": "B", "consumer_secret_env": "C", "access_token_env": "D",
             "access_token_secret_env": "E"}


def settings(mode: str) -> Settings:
    return Settings.model_validate({"privacy": {"mode": mode}, "accounts": [X_ACCOUNT]})


def ingest_mention(store: Engine, text: str, at: datetime | None = None) -> None:
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    with Session(store) as session:
        page = PullPage("mentions", [item("t1", text=text)])
        ingest_page(session, account, page, now=at or system_clock(),
                    find_spans=spans_finder(Detector()))


def guard(store: Engine, mode: str) -> list[int]:
    config = settings(mode)
    report = guard_undecided(store, config, config.account("brand-x"),
                             now=system_clock)
    return report.exposures


def privacy_states(store: Engine) -> dict[str, str | None]:
    with Session(store) as session:
        return {m.external_id: m.privacy_state for m in session.exec(select(Message))}


def test_suggest_mode_stores_the_plan_and_sends_nothing(store: Engine) -> None:
    ingest_mention(store, f"@brand rimborso sul mio IBAN {IBAN} per favore")

    exposures = guard(store, "suggest")

    waiting = pending_suggestions(store)
    assert [e.id for e in waiting] == exposures and len(exposures) == 1
    exposure = waiting[0]
    assert (exposure.types, exposure.mode, exposure.language) == ("IBAN", "suggest", "it")
    assert [step["kind"] for step in exposure.plan] == ["direct_message", "reply", "reply"]
    assert IBAN not in str(exposure.plan)
    with Session(store) as session:
        assert session.exec(select(OutboxAction)).all() == []


def test_a_post_is_guarded_once(store: Engine) -> None:
    ingest_mention(store, f"@brand IBAN {IBAN}")
    assert len(guard(store, "suggest")) == 1
    assert guard(store, "suggest") == []


def test_dismissing_a_suggestion_keeps_the_exposure_and_audits(store: Engine) -> None:
    ingest_mention(store, f"@brand IBAN {IBAN}")
    exposure_id = guard(store, "suggest")[0]

    dismiss_suggestion(store, exposure_id, "MR", now=system_clock)

    assert pending_suggestions(store) == []
    with Session(store) as session:
        exposure = session.get(PrivacyExposure, exposure_id)
        audit = session.exec(select(AuditEntry).where(
            AuditEntry.action == "privacy_guard.dismiss")).one()
    assert exposure is not None and (exposure.outcome, exposure.resolved_by) == ("dismissed", "MR")
    assert audit.actor == "MR"
    with pytest.raises(GuardError, match="not waiting"):
        dismiss_suggestion(store, exposure_id, "MR", now=system_clock)


def test_mode_off_records_nothing(store: Engine) -> None:
    ingest_mention(store, f"@brand IBAN {IBAN}")
    assert guard(store, "off") == []
    with Session(store) as session:
        assert session.exec(select(PrivacyExposure)).all() == []


def test_the_customer_card_lists_exposed_types_and_times_never_values(store: Engine) -> None:
    ingest_mention(store, f"@brand IBAN {IBAN}, tel 347 123 4567")
    exposure_id = guard(store, "suggest")[0]
    with Session(store) as session:
        conversation = session.exec(select(Conversation)).one()

    card = contact_exposures(store, conversation.contact_id or 0)

    assert [(e.exposure_id, e.types) for e in card] == [(exposure_id, ("IBAN", "PHONE"))]
    assert card[0].detected_at is not None and IBAN not in repr(card)


def test_ingest_writes_the_personal_data_marks_with_the_message(store: Engine) -> None:
    account = ensure_account(store, "brand-x", "x", now=system_clock())
    page = PullPage("mixed", [
        item("public", text=f"@brand IBAN {IBAN}"),
        item("clean", text="@brand grazie mille"),
        item("ours", text=f"@cliente il nostro IBAN è {IBAN}", direction=Direction.OUTBOUND),
        item("private", text=f"IBAN {IBAN}", channel=Channel.DM, thread_key="dm-1"),
    ])
    with Session(store) as session:
        ingest_page(session, account, page, now=system_clock(),
                    find_spans=spans_finder(Detector()))
    with Session(store) as session:
        rows = {m.external_id: m for m in session.exec(select(Message))}
    public = rows["public"]
    assert (public.has_pii, public.pii_types, public.privacy_state) == (True, "IBAN", "undecided")
    start, end, kind = public.pii_spans[0]  # type: ignore[index]
    assert public.text[start:end] == IBAN and kind == "IBAN"
    assert (rows["clean"].has_pii, rows["clean"].pii_spans, rows["clean"].privacy_state) == (
        False, None, None)
    # ours and private ones are masked in lists, but nothing of them is public customer data
    assert [(rows[k].has_pii, rows[k].privacy_state) for k in ("ours", "private")] == [
        (True, None), (True, None)]


def test_a_message_an_earlier_pass_stored_is_decided_by_the_next_pass(store: Engine) -> None:
    """A pass that stored the page and died before its guard ran leaves it for the next."""
    ingest_mention(store, f"@brand IBAN {IBAN}", at=system_clock() - timedelta(hours=2))
    assert privacy_states(store) == {"t1": "undecided"}

    exposures = guard(store, "suggest")

    assert len(exposures) == 1 and privacy_states(store) == {"t1": "decided"}
    assert [e.id for e in pending_suggestions(store)] == exposures


def test_mode_off_leaves_the_message_for_a_later_pass(store: Engine) -> None:
    ingest_mention(store, f"@brand IBAN {IBAN}")
    assert guard(store, "off") == []
    assert privacy_states(store) == {"t1": "undecided"}
    assert len(guard(store, "suggest")) == 1


class Killed(Exception):
    """Stands for the process dying right after a page was stored, before its guard ran."""


def undecided(store: Engine) -> int:
    with Session(store) as session:
        return len(session.exec(select(Message.id).where(
            Message.privacy_state == "undecided")).all())


def sandbox_settings(server: SandboxServer, folder: Path, mode: str) -> Settings:
    path = write_config(folder / "config.toml", server.base_url)
    path.write_text(path.read_text() + f'\n[privacy]\nmode = "{mode}"\n')
    return load_settings(path)


@pytest.mark.parametrize("mode", ["suggest", "auto"])
def test_pages_whose_guard_never_ran_are_decided_by_the_next_pass(
    store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv(SANDBOX_TOKEN_ENV, "sandbox-guard")
    with SandboxServer(seed=3, static=True, messages=150) as server:
        server.start()
        config = sandbox_settings(server, tmp_path, mode)

        def die_once_something_waits(account: str, stream: str, items: int) -> None:
            if undecided(store):
                raise Killed

        for account in config.accounts:
            with pytest.raises(Killed):
                sync_accounts(config, store, [account.name], on_page=die_once_something_waits,
                              clock=system_clock)
        left = undecided(store)
        assert left >= 2, "each account's pass must die with personal data stored"

        results = sync_accounts(config, store, clock=system_clock)

        assert all(result.ok for result in results)
        actions = server.state()["actions"]
    assert undecided(store) == 0
    with Session(store) as session:
        exposed = session.exec(select(Message.id).where(
            Message.direction == "inbound", Message.visibility == "public",
            Message.has_pii == True)).all()  # noqa: E712
        exposures = session.exec(select(PrivacyExposure)).all()
    assert sorted(e.message_id for e in exposures) == sorted(exposed)
    outcomes = {e.outcome for e in exposures}
    if mode == "suggest":
        assert outcomes == {"suggested"} and actions == []
    else:
        assert outcomes <= {"done", "partial"} and actions
    assert writes_sent_twice(actions) == []


def test_a_redirect_left_queued_is_carried_on_by_the_next_pass(
    store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """X refuses the first DM for a while (429): the plan stays `queued` with the DM
    pending; the next pass, after the reset, sends it and settles the exposure."""
    monkeypatch.setenv(SANDBOX_TOKEN_ENV, "sandbox-guard")
    with SandboxServer(seed=3, static=True, messages=150) as server:
        server.start()
        config = sandbox_settings(server, tmp_path, "auto")
        server.inject({"target": "x.dm_create", "kind": "rate_limit", "count": 1})
        sync_accounts(config, store, ["sandbox-x"], clock=system_clock)
        with Session(store) as session:
            waiting = session.exec(select(PrivacyExposure).where(
                PrivacyExposure.outcome == "queued")).all()
        assert len(waiting) == 1
        dm = next(s for s in waiting[0].plan if s["kind"] == "direct_message")
        assert dm["state"] == "pending"

        def after_the_reset() -> datetime:
            return system_clock() + timedelta(hours=1)

        sync_accounts(config, store, ["sandbox-x"], clock=after_the_reset)
        actions = server.state()["actions"]
    with Session(store) as session:
        exposure = session.get(PrivacyExposure, waiting[0].id)
        audits = session.exec(select(AuditEntry).where(
            AuditEntry.action == "privacy_guard.redirect")).all()
    assert exposure is not None and exposure.outcome in ("done", "partial")
    assert [s["state"] for s in exposure.plan if s["kind"] == "direct_message"] == ["sent"]
    assert writes_sent_twice(actions) == []
    redirects_of_it = [a for a in audits if a.detail["exposure_id"] == exposure.id]
    assert len(redirects_of_it) == 2, "one audit entry per pass that changed something"


def test_the_guards_lookup_reads_the_partial_index(store: Engine) -> None:
    """The guard runs after every pass: it must read the few undecided rows, not the table
    (PostgreSQL with sequential scans off: a small table is otherwise read whole)."""
    ingest_mention(store, f"@brand IBAN {IBAN}")
    statement = undecided_batch(1, 0).compile(store, compile_kwargs={"literal_binds": True})
    with Session(store) as session:
        if store.dialect.name == "postgresql":
            session.exec(text("SET LOCAL enable_seqscan = off"))  # type: ignore[call-overload]
            explain = f"EXPLAIN {statement}"
        else:
            explain = f"EXPLAIN QUERY PLAN {statement}"
        plan = " ".join(str(row[-1]) for row in session.exec(text(explain)))  # type: ignore[call-overload]
    assert "ix_message_privacy_undecided" in plan, plan
