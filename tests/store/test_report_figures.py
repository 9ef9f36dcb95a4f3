"""Reports read back with csv.DictReader and checked against figures computed by hand.

The desk opens Monday to Friday 09:00-18:00 in Europe/Rome (08:00-17:00 UTC in winter),
with Italian public holidays closed and a first-response SLA of 60 business minutes.

    C1 DM       in Mon 30 Nov 08:30Z, answered 09:00Z  -> 30 min, due 09:30Z, met;
                resolved 10:00Z -> 90 min; assignee AB
    C2 DM       in Mon 30 Nov 16:30Z, answered Tue 08:45Z -> 30 + 45 = 75 min,
                due Tue 08:30Z, breached; assignee AB
    C3 DM       in Sat 5 Dec 10:00Z (closed), answered Mon 7 Dec 08:10Z -> 10 min,
                due Mon 09:00Z, met; assignee CD
    C4 mention  in Mon 30 Nov 10:00Z with a phone number, never answered, due 11:00Z,
                breached (now = Tue 1 Dec 12:00Z); unassigned
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, update
from sqlmodel import Session

from connectors.base import ActionKind, Channel, Direction, InboundItem, PullPage
from socialdesk.config import settings_from_mapping
from socialdesk.reports import ReportPeriod, ReportRequest, safe_cell, write_report
from socialdesk.service.hours import hours_for
from socialdesk.service.sla import fill_missing_due_times
from socialdesk.store.ingest import ensure_account, ingest_page
from socialdesk.store.models import (
    Conversation,
    Message,
    OutboxAction,
    OutboxState,
    PrivacyExposure,
)
from socialdesk.sync import detector_for, spans_finder

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ROME = ZoneInfo("Europe/Rome")
"""SETTINGS' `[hours] timezone`: the desk's days."""
SETTINGS = settings_from_mapping(
    {
        "hours": {"timezone": "Europe/Rome", "public_holidays": "IT"},
        "sla": {"first_response_minutes": 60},
        "reports": {"unmask_operators": ["AB"]},
        "accounts": [{"name": "brand-x", "platform": "x", "user_id": "9",
                      "bearer_token_env": "T", "consumer_key_env": "T",
                      "consumer_secret_env": "T", "access_token_env": "T",
                      "access_token_secret_env": "T"}],
    },
    source="test",
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 30, tzinfo=UTC) + timedelta(days=day - 30, hours=hour,
                                                           minutes=minute)


def dm(external_id: str, thread: str, when: datetime, outbound: bool = False,
       text: str = "ciao") -> InboundItem:
    """A DM in thread `thread` ("m" is a public mention), from customer_<thread> or from us."""
    return InboundItem(
        platform="x", external_id=external_id,
        channel=Channel.MENTION if thread == "m" else Channel.DM,
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        thread_key=thread, text=text, created_at=when,
        author_id="9" if outbound else f"c{thread}",
        author_handle=None if outbound else f"customer_{thread}",
    )


@pytest.fixture
def desk(store: Engine) -> Engine:
    account = ensure_account(store, "brand-x", "x", now=NOW)
    items = [
        dm("1", "a", at(30, 8, 30)), dm("2", "a", at(30, 9), outbound=True),
        dm("3", "b", at(30, 16, 30)), dm("4", "b", at(31, 8, 45), outbound=True),
        dm("5", "c", at(35, 10)), dm("6", "c", at(37, 8, 10), outbound=True),
        dm("7", "m", at(30, 10), text="richiamatemi al +39 347 123 4567"),
    ]
    with Session(store) as session:
        ingest_page(session, account, PullPage("dms", items), now=NOW,
                    find_spans=spans_finder(detector_for(SETTINGS)))
        by_thread = {"a": ("AB", at(30, 10)), "b": ("AB", None), "c": ("CD", None)}
        for thread, (assignee, resolved) in by_thread.items():
            session.exec(update(Conversation).where(Conversation.thread_key == thread)
                         .values(assignee=assignee, resolved_at=resolved,
                                 status="resolved" if resolved else "open"))
        session.commit()
    hours = hours_for(SETTINGS.hours, SETTINGS.accounts[0])
    fill_missing_due_times(store, {"brand-x": hours}, 60)
    return store


def report_text(store: Engine, kind: str, now: datetime = NOW, **options: object) -> str:
    out = io.StringIO(newline="")
    request = ReportRequest(kind=kind, period=ReportPeriod(), **options)  # type: ignore[arg-type]
    with Session(store) as session:
        write_report(session, SETTINGS, request, out, now=now)
    return out.getvalue()


def read(store: Engine, kind: str, now: datetime = NOW,
         **options: object) -> list[dict[str, str]]:
    text = report_text(store, kind, now, **options)
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_the_conversations_report_gives_business_minutes_and_sla(desk: Engine) -> None:
    rows = {row["customer_handle"]: row for row in read(desk, "conversations")}
    one, two, three, four = (rows[f"customer_{k}"] for k in "abcm")
    assert (one["first_response_minutes"], one["sla_met"], one["resolution_minutes"]) == (
        "30.0", "true", "90.0")
    assert one["sla_due_at"] == "2026-11-30T09:30:00Z" and one["status"] == "resolved"
    assert (two["first_response_minutes"], two["sla_met"]) == ("75.0", "false")
    assert two["sla_due_at"] == "2026-12-01T08:30:00Z"
    assert (three["first_response_minutes"], three["sla_met"]) == ("10.0", "true")
    assert (four["first_response_minutes"], four["sla_met"]) == ("", "false")
    assert four["personal_data"] == "PHONE" and one["personal_data"] == ""
    assert four["channel"] == "mention" and four["assignee"] == ""
    assert [row["redirected"] for row in (one, two, three, four)] == ["false"] * 4


def test_a_conversation_the_guard_moved_to_private_reads_redirected(desk: Engine) -> None:
    with Session(desk) as session:
        session.exec(update(Conversation).where(Conversation.thread_key == "m")
                     .values(redirected_at=at(30, 10, 1)))
        session.commit()
    rows = {row["customer_handle"]: row["redirected"] for row in read(desk, "conversations")}
    assert rows == {"customer_a": "false", "customer_b": "false", "customer_c": "false",
                    "customer_m": "true"}


def test_an_sla_still_running_is_neither_met_nor_missed(desk: Engine) -> None:
    """At 10:30 C4's hour runs until 11:00: blank, and left out of the percentages."""
    rows = {row["customer_handle"]: row for row in read(desk, "conversations",
                                                         now=at(30, 10, 30))}
    assert rows["customer_m"]["sla_met"] == ""
    assert rows["customer_m"]["sla_due_at"] == "2026-11-30T11:00:00Z"


def test_the_agents_report_groups_by_operator(desk: Engine) -> None:
    rows = {row["operator"]: row for row in read(desk, "agents")}
    assert set(rows) == {"AB", "CD"}
    ab = rows["AB"]
    assert ab["conversations"] == "2"
    assert ab["first_response_median_minutes"] == "52.5"  # median of 30 and 75
    assert ab["first_response_p90_minutes"] == "70.5"  # 30 + 0.9 * 45
    assert ab["resolution_median_minutes"] == "90.0"
    assert ab["sla_met_percent"] == "50.0"
    assert rows["CD"]["sla_met_percent"] == "100.0"


def test_the_daily_report_counts_per_day_and_channel(desk: Engine) -> None:
    rows = {(row["day"], row["channel"]): row for row in read(desk, "daily")}
    monday_dm = rows[("2026-11-30", "dm")]
    assert (monday_dm["inbound"], monday_dm["conversations"], monday_dm["answered"]) == (
        "2", "2", "2")
    assert monday_dm["first_response_median_minutes"] == "52.5"
    assert monday_dm["sla_breaches"] == "1"
    monday_mention = rows[("2026-11-30", "mention")]
    assert (monday_mention["answered"], monday_mention["sla_breaches"]) == ("0", "1")
    assert rows[("2026-12-05", "dm")]["sla_breaches"] == "0"


def test_the_messages_report_masks_personal_data_unless_an_allowed_operator_unmasks(
    desk: Engine,
) -> None:
    masked = {row["external_id"]: row for row in read(desk, "messages")}
    assert masked["7"]["has_pii"] == "true" and masked["1"]["has_pii"] == "false"
    assert masked["1"]["created_at"] == "2026-11-30T08:30:00Z"
    assert "347 123 4567" not in masked["7"]["text"] and masked["7"]["text"].endswith("**67")
    clear = {row["external_id"]: row for row in read(desk, "messages", unmask=True,
                                                      operator="AB")}
    assert "+39 347 123 4567" in clear["7"]["text"]


def test_a_flagged_message_stored_without_spans_is_scanned_again(desk: Engine) -> None:
    """Rows flagged before spans were stored (JSON null or SQL NULL) are still masked."""
    with Session(desk) as session:
        session.exec(update(Message).where(Message.external_id == "7").values(pii_spans=None))
        session.commit()
    masked = {row["external_id"]: row for row in read(desk, "messages")}
    assert "347 123 4567" not in masked["7"]["text"] and masked["7"]["text"].endswith("**67")


def test_unmasking_is_refused_to_an_operator_not_allowed(desk: Engine) -> None:
    from socialdesk.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="ZZ may not unmask reports: add the initials "
                                               "to \\[reports\\] unmask_operators"):
        read(desk, "messages", unmask=True, operator="ZZ")


def test_a_period_keeps_only_conversations_opened_in_it(desk: Engine) -> None:
    out = io.StringIO(newline="")
    period = ReportPeriod(since=at(35, 0), until=at(36, 0))
    with Session(desk) as session:
        write_report(session, SETTINGS, ReportRequest("conversations", period), out, now=NOW)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert [row["customer_handle"] for row in rows] == ["customer_c"]


def test_an_automatic_acknowledgement_does_not_meet_the_sla(desk: Engine) -> None:
    """C4 got an acknowledgement within its hour: it is still an unanswered, missed SLA."""
    account = ensure_account(desk, "brand-x", "x", now=NOW)
    with Session(desk) as session:
        ingest_page(session, account, PullPage("outbox", [
            dm("8", "m", at(30, 10, 1), outbound=True, text="Ti risponderemo entro le 12:00")]),
            automated=True, now=NOW)
    rows = {row["customer_handle"]: row for row in read(desk, "conversations")}
    four = rows["customer_m"]
    assert (four["first_response_at"], four["sla_met"]) == ("", "false")


@pytest.mark.parametrize("moment", [
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC),
    datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=2))),
])
def test_message_times_read_as_iso_8601_utc(store: Engine, moment: datetime) -> None:
    """The database writes the time cell itself; it reads as `safe_cell` formats a time:
    to the whole second, cut rather than rounded (23:59:59.999999 stays on its day), so
    every time in every report has one precision."""
    account = ensure_account(store, "brand-x", "x", now=NOW)
    with Session(store) as session:
        ingest_page(session, account, PullPage("dms", [dm("1", "a", moment)]), now=NOW)
    (row,) = read(store, "messages")
    assert row["created_at"] == safe_cell(moment)
    assert datetime.fromisoformat(row["created_at"]) == moment.replace(microsecond=0)


def test_text_from_outside_is_neutralised_in_every_column(store: Engine) -> None:
    """An account name, a handle, an id, a text and an assignee a spreadsheet would run."""
    account = ensure_account(store, "=brand", "x", now=NOW)
    item = replace(dm("-1", "a", at(30, 8, 30), text="+39 ciao"), author_handle="@SUM(A1)")
    with Session(store) as session:
        ingest_page(session, account, PullPage("dms", [item]), now=NOW)
        session.exec(update(Conversation).values(assignee="=AB"))
        session.commit()
    (message,) = read(store, "messages")
    assert [message[c] for c in ("account", "external_id", "author_handle", "text")] == [
        "'=brand", "'-1", "'@SUM(A1)", "'+39 ciao"]
    (conversation,) = read(store, "conversations")
    assert [conversation[c] for c in ("account", "customer_handle", "assignee")] == [
        "'=brand", "'@SUM(A1)", "'=AB"]


def test_a_text_with_personal_data_is_masked_then_neutralised(store: Engine) -> None:
    """The database neutralises plain texts; one with personal data is masked from its
    stored spans first, so its apostrophe is added after masking, and with --unmask too."""
    account = ensure_account(store, "brand-x", "x", now=NOW)
    items = [dm("1", "a", at(30, 8), text="+39 347 123 4567 richiamatemi"),
             dm("2", "b", at(30, 9), text="=1+1 e il +39 347 765 4321")]
    with Session(store) as session:
        ingest_page(session, account, PullPage("dms", items), now=NOW,
                    find_spans=spans_finder(detector_for(SETTINGS)))
    masked = [row["text"] for row in read(store, "messages")]
    assert masked == ["'+39 *** *** **67 richiamatemi", "'=1+1 e il +39 *** *** **21"]
    clear = [row["text"] for row in read(store, "messages", unmask=True, operator="AB")]
    assert clear == ["'+39 347 123 4567 richiamatemi", "'=1+1 e il +39 347 765 4321"]


KINDS = ("conversations", "messages", "agents", "daily", "redirects")


def answer(session: Session, account_id: int | None, operator: str, kind: ActionKind,
           sent_at: datetime | None, state: OutboxState = OutboxState.SENT) -> None:
    """An outbox action as the outbox leaves it once done (or not) with it."""
    session.add(OutboxAction(
        idempotency_key=f"{operator}-{kind}-{sent_at}-{state}", account_id=account_id,
        platform="x", kind=kind.value, state=state.value, requested_by=operator,
        text=None if kind is ActionKind.HIDE else "grazie", sent_at=sent_at,
        created_at=sent_at or NOW, updated_at=sent_at or NOW))


def expose(session: Session, external_id: str, resolved_by: str | None = "AB") -> None:
    """The privacy guard's record of message `external_id`: hidden, then moved to a DM."""
    conversation_id, message_id = session.connection().execute(
        select(Message.conversation_id, Message.id).where(Message.external_id == external_id)
    ).one()
    session.add(PrivacyExposure(
        conversation_id=conversation_id, message_id=message_id, types="PHONE",
        detected_at=at(30, 10, 1), mode="suggest", outcome="done", resolved_by=resolved_by,
        plan=[{"purpose": "hide", "kind": "hide", "state": "sent"},
              {"purpose": "private_message", "kind": "direct_message", "state": "sent"}]))


def read_excel(store: Engine, kind: str) -> list[dict[str, str]]:
    """--excel read back as a script would: BOM stripped, `;`-separated."""
    text = report_text(store, kind, excel=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""),
                               delimiter=";"))


def decimal_comma(cell: str) -> str:
    return re.sub(r"^(-?\d+)\.(\d+)$", r"\1,\2", cell)


def test_agents_count_the_answers_each_operator_sent_through_the_outbox(desk: Engine) -> None:
    """AB: a reply and a DM sent -> 2 (the pending one is not out yet); CD: a DM sent -> 1
    (the failed reply and the hide are no answers); EF answered without owning any
    conversation -> 1 private reply, 0 conversations."""
    account_id = ensure_account(desk, "brand-x", "x", now=NOW).id
    with Session(desk) as session:
        answer(session, account_id, "AB", ActionKind.REPLY, at(30, 9))
        answer(session, account_id, "AB", ActionKind.DIRECT_MESSAGE, at(31, 8, 45))
        answer(session, account_id, "AB", ActionKind.REPLY, None, OutboxState.PENDING)
        answer(session, account_id, "CD", ActionKind.DIRECT_MESSAGE, at(37, 8, 10))
        answer(session, account_id, "CD", ActionKind.REPLY, None, OutboxState.FAILED)
        answer(session, account_id, "CD", ActionKind.HIDE, at(37, 8, 11))
        answer(session, account_id, "EF", ActionKind.PRIVATE_REPLY, at(31, 9))
        session.commit()
    rows = {row["operator"]: row for row in read(desk, "agents")}
    assert {name: row["replies"] for name, row in rows.items()} == {
        "AB": "2", "CD": "1", "EF": "1"}
    assert (rows["EF"]["conversations"], rows["AB"]["conversations"]) == ("0", "2")


def test_operator_initials_a_spreadsheet_would_run_are_neutralised_in_agents(
    store: Engine,
) -> None:
    """One from the assignee, one only from the outbox's `requested_by`."""
    account = ensure_account(store, "brand-x", "x", now=NOW)
    with Session(store) as session:
        ingest_page(session, account, PullPage("dms", [dm("1", "a", at(30, 8, 30))]), now=NOW)
        session.exec(update(Conversation).values(assignee="=AB"))
        answer(session, account.id, "+CD", ActionKind.DIRECT_MESSAGE, at(30, 9))
        session.commit()
    assert [row["operator"] for row in read(store, "agents")] == ["'+CD", "'=AB"]


def test_a_channel_a_spreadsheet_would_run_is_neutralised_in_daily(store: Engine) -> None:
    account = ensure_account(store, "brand-x", "x", now=NOW)
    with Session(store) as session:
        ingest_page(session, account, PullPage("dms", [dm("1", "a", at(30, 8, 30))]), now=NOW)
        session.exec(update(Conversation).values(channel="@SUM(A1)"))
        session.exec(update(Message).values(channel="@SUM(A1)"))
        session.commit()
    (row,) = read(store, "daily")
    assert (row["channel"], row["inbound"], row["conversations"]) == ("'@SUM(A1)", "1", "1")


def test_an_account_and_a_decider_a_spreadsheet_would_run_are_neutralised_in_redirects(
    store: Engine,
) -> None:
    account = ensure_account(store, "=brand", "x", now=NOW)
    with Session(store) as session:
        ingest_page(session, account, PullPage("dms", [dm("1", "m", at(30, 10))]), now=NOW)
        expose(session, "1", resolved_by="-AB")
        session.commit()
    (row,) = read(store, "redirects")
    assert [row[c] for c in ("account", "decided_by", "data_types")] == [
        "'=brand", "'-AB", "PHONE"]


@pytest.mark.parametrize("kind", KINDS)
def test_excel_writes_every_kind_with_a_bom_and_semicolons_and_reads_back(
    desk: Engine, kind: str,
) -> None:
    """The same cells as the plain CSV, decimals with a comma (an Italian spreadsheet reads
    `52.5` as text or a date); the redirect's `a; b` actions survive the `;` separator."""
    with Session(desk) as session:
        expose(session, "7")
        session.commit()
    plain = read(desk, kind)
    text = report_text(desk, kind, excel=True)
    assert text.startswith("\ufeff")
    assert text.removeprefix("\ufeff").splitlines()[0].split(";") == list(plain[0])
    assert read_excel(desk, kind) == [
        {column: decimal_comma(cell) for column, cell in row.items()} for row in plain]


def test_excel_writes_minutes_and_percentages_with_a_decimal_comma(desk: Engine) -> None:
    """The figures of test_the_conversations_report_… and test_the_agents_report_…"""
    conversations = {row["customer_handle"]: row for row in read_excel(desk, "conversations")}
    assert (conversations["customer_a"]["first_response_minutes"],
            conversations["customer_a"]["resolution_minutes"]) == ("30,0", "90,0")
    assert conversations["customer_b"]["first_response_minutes"] == "75,0"
    assert conversations["customer_m"]["first_response_minutes"] == ""
    agents = {row["operator"]: row for row in read_excel(desk, "agents")}
    ab = agents["AB"]
    assert (ab["first_response_median_minutes"], ab["first_response_p90_minutes"]) == (
        "52,5", "70,5")  # median of 30 and 75; 30 + 0.9 * 45
    assert (ab["resolution_median_minutes"], ab["sla_met_percent"]) == ("90,0", "50,0")
    assert (ab["conversations"], agents["CD"]["sla_met_percent"]) == ("2", "100,0")


def test_local_dates_cover_whole_local_days_both_inclusive() -> None:
    """Mon 30 Nov to Sun 6 Dec in Rome (UTC+1): [29 Nov 23:00Z, 6 Dec 23:00Z)."""
    period = ReportPeriod.from_local_dates(date(2026, 11, 30), date(2026, 12, 6), ROME)
    assert (period.since, period.until) == (datetime(2026, 11, 29, 23, tzinfo=UTC),
                                            datetime(2026, 12, 6, 23, tzinfo=UTC))
    tick = timedelta(microseconds=1)
    assert period.contains(period.since) and not period.contains(period.since - tick)
    assert period.contains(period.until - tick) and not period.contains(period.until)


def test_local_dates_follow_daylight_saving_time() -> None:
    """Sun 29 Mar 2026 in Rome has 23 hours: 28 Mar 23:00Z (UTC+1) to 29 Mar 22:00Z (UTC+2)."""
    period = ReportPeriod.from_local_dates(date(2026, 3, 29), date(2026, 3, 29), ROME)
    assert (period.since, period.until) == (datetime(2026, 3, 28, 23, tzinfo=UTC),
                                            datetime(2026, 3, 29, 22, tzinfo=UTC))


def test_local_dates_left_out_leave_the_period_open() -> None:
    period = ReportPeriod.from_local_dates(None, None, ROME)
    assert (period.since, period.until) == (None, None)
    assert period.contains(datetime(1970, 1, 1, tzinfo=UTC)) and not period.contains(None)
    assert ReportPeriod.from_local_dates(None, date(2026, 12, 6), ROME).since is None
    assert ReportPeriod.from_local_dates(date(2026, 11, 30), None, ROME).until is None


def test_the_first_answer_is_looked_up_per_conversation_even_before_analyze(
    desk: Engine,
) -> None:
    """An index led by `direction` once made SQLite, without statistics, find each
    conversation's first answer by walking every answer sent since: the conversations
    report over a million messages never ended. The lookup must go by conversation."""
    if desk.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    from socialdesk.reports.figures import _figures_statement

    statement = _figures_statement(ReportPeriod(), None, "sqlite", NOW)
    sql = str(statement.compile(desk, compile_kwargs={"literal_binds": True}))
    with desk.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar() == 0
        plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    message_lookups = [step for step in plan if "SEARCH message" in step]
    assert message_lookups and all("(conversation_id=?" in step for step in message_lookups), plan
