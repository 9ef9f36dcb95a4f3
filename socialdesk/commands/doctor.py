"""`socialdesk doctor`: what needs a human, one line per check, readable without colour.

Checks the config, the database and its migrations, each account's token and permissions
against the API (or the sandbox) as its platform checks them, the last successful
sync of every stream, the items set aside because they could not be read, and whether
the stored personal-data spans were found with the config's detector settings. A failure
(✗) makes the exit status 1; a warning (!) does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, TextIO

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from socialdesk.clock import zone_time
from socialdesk.config import AccountConfig, Settings, load_settings, secret_sources
from socialdesk.errors import SocialdeskError
from socialdesk.paths import too_open
from socialdesk.platforms.checks import Check, Mark
from socialdesk.platforms.registry import build_connector, platform_of
from socialdesk.privacy.detector_settings import RESCAN_HINT
from socialdesk.privacy.rescan import stale_accounts
from socialdesk.store.db import alembic_config, create_store_engine
from socialdesk.store.quarantine import waiting_by_account
from socialdesk.store.stream_state import stream_states

STALE_POLLS = 3
STALE_FLOOR = timedelta(minutes=10)
"""A stream is stale after 3 poll intervals, and never sooner than 10 minutes: a cron line
every 5 minutes is healthy."""
NO_TABLES = "has no tables yet; the first `socialdesk sync` creates them"


def run_doctor(
    config_path: Path, out: TextIO, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> int:
    """Print every check as it finishes; 1 when any needs a human, else 0."""
    failures = warnings = 0
    for check in diagnose(config_path, now()):
        print(check.line(), file=out, flush=True)
        failures += check.mark is Mark.FAILED
        warnings += check.mark is Mark.WARNING
    verdict = ("all good" if not failures and not warnings else
               f"{failures} problem(s) need a human, {warnings} warning(s)")
    print(f"doctor: {verdict}", file=out)
    return 1 if failures else 0


def diagnose(config_path: Path, now: datetime) -> Iterator[Check]:
    try:
        settings = load_settings(config_path)
    except SocialdeskError as error:
        yield Check(Mark.FAILED, "config", f"{error.message}")
        return
    names = ", ".join(a.name for a in settings.accounts) or "no accounts: add [[accounts]]"
    yield Check(Mark.OK if settings.accounts else Mark.FAILED, "config",
                f"{config_path} loads ({names})")
    yield _tokens_check(settings)
    engine, database = _database(settings)
    yield database
    yield _privacy_of_files(config_path, engine, settings)
    for account in settings.accounts:
        yield from _account_checks(account, now)
    if engine is not None and database.mark is Mark.OK:
        yield from _sync_checks(stream_states(engine), settings, now)
        yield _quarantine_check(waiting_by_account(engine))
        yield _detection_check(stale_accounts(engine, settings))
    elif engine is not None and database.detail.endswith(NO_TABLES):
        yield from _sync_checks({}, settings, now)
    if engine is not None:
        engine.dispose()


def _database(settings: Settings) -> tuple[Engine | None, Check]:
    """Opens the database without upgrading it: the doctor reports, it does not repair."""
    try:
        engine = create_store_engine(settings.database.effective_url)
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except (SocialdeskError, SQLAlchemyError) as error:
        return None, Check(Mark.FAILED, "database", f"cannot open it: {error}")
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    where = engine.url.render_as_string(hide_password=True)
    if current == head:
        return engine, Check(Mark.OK, "database", f"{where} at migration {head}")
    if current is None:
        return engine, Check(Mark.WARNING, "database", f"{where} {NO_TABLES}")
    known = {script.revision for script in ScriptDirectory.from_config(
        alembic_config(engine)).walk_revisions()}
    if current not in known:
        return engine, Check(Mark.FAILED, "database", f"{where} is at migration {current}, "
                             "written by a newer socialdesk: upgrade socialdesk")
    return engine, Check(Mark.WARNING, "database", f"{where} at migration {current}, head is "
                         f"{head}; the next `socialdesk sync` upgrades it")


def _tokens_check(settings: Settings) -> Check:
    """Where the token variables come from: cron and systemd start socialdesk with almost no
    environment, so a token that works in a shell can be missing there."""
    sources = {name: source for account in settings.accounts
               for name, source in secret_sources(account).items()}
    from_environment = sorted(name for name, source in sources.items()
                              if source == "the environment")
    tokens_file = settings.secrets.tokens_file
    if tokens_file is None:
        return Check(Mark.OK, "tokens", f"{len(from_environment)} of {len(sources)} variable(s) "
                     "set in this environment; cron and systemd start with almost none: name "
                     "a file of NAME=value lines in [secrets] tokens_file for them")
    from_file = len([source for source in sources.values() if source == str(tokens_file)])
    overridden = f" (the environment wins: {', '.join(from_environment)})" \
        if from_environment else ""
    return Check(Mark.OK, "tokens", f"variables the environment lacks are read from "
                 f"{tokens_file} ([secrets] tokens_file): {from_file} of {len(sources)} "
                 f"from the file{overridden}")


def _privacy_of_files(config_path: Path, engine: Engine | None, settings: Settings) -> Check:
    """Files other users can read. The database files and the default data folder are
    tightened when the store opens; the config, the tokens file and a database folder you
    chose are yours, so they are only named, with the command that closes them."""
    paths = [config_path]
    if settings.secrets.tokens_file is not None:
        paths.append(settings.secrets.tokens_file)
    if engine is not None and engine.dialect.name == "sqlite" and engine.url.database:
        database = Path(engine.url.database).expanduser()
        paths += [database.parent, database]
    loose = [path for path in paths if too_open(path)]
    if not loose:
        return Check(Mark.OK, "private files", "the config, the tokens and the database are "
                     "yours alone")
    fixes = "; ".join(f"chmod {'700' if path.is_dir() else '600'} {path}" for path in loose)
    return Check(Mark.WARNING, "private files",
                 f"other users of this machine can read {len(loose)} of them: {fixes}")


def _account_checks(account: AccountConfig, now: datetime) -> Iterator[Check]:
    try:
        connector: Any = build_connector(account)
    except SocialdeskError as error:
        yield Check(Mark.FAILED, account.name, error.message.removeprefix(f"{account.name}: "))
        return
    yield from platform_of(account).account_checks(account, connector, now)


def _sync_checks(
    states: Mapping[tuple[str, str], Any], settings: Settings, now: datetime
) -> Iterator[Check]:
    for account in settings.accounts:
        for stream, seconds in account.poll_seconds.items():
            yield _stream_check(account.name, stream, states.get((account.name, stream)),
                                max(STALE_FLOOR, STALE_POLLS * timedelta(seconds=seconds)), now,
                                settings.desk_zone)


def _stream_check(account: str, stream: str, state: Any, stale: timedelta,
                  now: datetime, zone: tzinfo) -> Check:
    subject = f"{account}/{stream} last sync"
    if state is None or state.last_success_at is None:
        last_error = state.last_error if state is not None else None
        error = f" (last error: {last_error})" if last_error else ""
        return Check(Mark.WARNING, subject, f"never succeeded{error}; run `socialdesk sync`")
    age = now - state.last_success_at
    when = zone_time(state.last_success_at, zone)
    if state.rate_limited_until and state.rate_limited_until > now:
        return Check(Mark.WARNING, subject, f"{when}; rate limited until "
                     f"{zone_time(state.rate_limited_until, zone, now)}")
    if age > stale:
        error = f"; last error: {state.last_error}" if state.last_error else ""
        return Check(Mark.WARNING, subject, f"{when}, {_ago(age)} ago: is `socialdesk run` or "
                     f"the cron line running?{error}")
    return Check(Mark.OK, subject, f"{when} ({_ago(age)} ago)")


def _quarantine_check(waiting: Mapping[str, int]) -> Check:
    """Items set aside wait for a human or a newer socialdesk; each sync tries them again."""
    if not waiting:
        return Check(Mark.OK, "quarantine", "no item waiting")
    total = sum(waiting.values())
    by_account = ", ".join(f"{name} {count}" for name, count in sorted(waiting.items()))
    return Check(Mark.WARNING, "quarantine", f"{total} item(s) set aside because they could "
                 f"not be read ({by_account}); each sync tries them again; "
                 "`socialdesk quarantine` lists them")


def _detection_check(stale: list[str]) -> Check:
    """Spans found with other detector settings: the desk, the reports and the guard read
    them, so they would disagree with a fresh scan until the store is rescanned."""
    if not stale:
        return Check(Mark.OK, "personal data", "stored spans match the [privacy] settings")
    return Check(Mark.WARNING, "personal data", f"{', '.join(stale)}: {RESCAN_HINT}")


def _ago(age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"
