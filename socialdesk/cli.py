"""The `socialdesk` command: parse, call one domain function, print, exit.

Data goes to stdout (reports, scans), diagnostics to stderr, so both can be piped.
Every `SocialdeskError` is printed on one line with its family's exit code.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import click

from socialdesk import __version__
from socialdesk.errors import (
    SocialdeskError,
    UnexpectedError,
    UsageError,
    environment_fault,
    render_error,
)
from socialdesk.logs import configure_logging
from socialdesk.paths import resolve_config_path
from socialdesk.privacy.logfilter import PersonalDataFilter

REPORT_KINDS = ("conversations", "messages", "agents", "daily", "redirects", "summary")
"""The CSV kinds, and `summary`, a table on the terminal."""


@dataclass
class Invocation:
    """What the options before the command said (`socialdesk --config FILE -v sync`), for
    the command to read: click hands it down as the context object."""

    config_path: Path | None = None
    verbose: int = 0


def _config_path(ctx: click.Context, _param: click.Parameter, given: Path | None) -> Path:
    """The one place the config path is decided: the command's own `--config`, else the one
    before the command, else `resolve_config_path`'s fallbacks. A group records what it was
    given, so `outbox --config F retry` reaches `retry` too."""
    invocation = ctx.ensure_object(Invocation)
    if given is not None:
        invocation.config_path = given
    return resolve_config_path(invocation.config_path)


def _verbosity(ctx: click.Context, _param: click.Parameter, count: int) -> int:
    """`-v` before and after the command add up: -v info, -vv debug."""
    invocation = ctx.ensure_object(Invocation)
    invocation.verbose += count
    if count or ctx.parent is None:  # the group sets the level once; a command's -v raises it
        configure_logging(LOG_LEVELS[min(invocation.verbose, len(LOG_LEVELS) - 1)],
                          [PersonalDataFilter()])
    return invocation.verbose


LOG_LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)
CONFIG_HELP = "Config file (default: $SOCIALDESK_CONFIG, then the user config dir)."
VERBOSE_HELP = "More log output on stderr (-v info, -vv debug)."


def config_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """`--config` and `-v` after the command, as they are accepted before it."""
    function = click.option("-v", "--verbose", count=True, expose_value=False,
                            callback=_verbosity, help=VERBOSE_HELP)(function)
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        callback=_config_path,
        help=CONFIG_HELP,
    )(function)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="socialdesk")
@click.option("-v", "--verbose", count=True, expose_value=False, callback=_verbosity,
              help=VERBOSE_HELP)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, expose_value=False, callback=_config_path,
              help=CONFIG_HELP + " A command's own --config wins.")
def cli() -> None:
    """socialdesk: answer X and Facebook customers from one queue, personal data kept private."""


@cli.command()
@config_option
def init(config_path: Path) -> None:
    """Write a starter config; never overwrites an existing one."""
    from socialdesk.commands.init import write_starter_config

    path = write_starter_config(config_path)
    click.echo(f"Wrote {path}", err=True)
    click.echo("Edit its [[accounts]], export the token variables it names, then run "
               "`socialdesk sync`.", err=True)


@cli.command()
@config_option
@click.option("--account", "accounts", multiple=True, help="Only this account (repeatable).")
@click.option("-q", "--quiet", is_flag=True,
              help="Print only the accounts that failed (cron mails what is printed).")
def sync(config_path: Path, accounts: tuple[str, ...], quiet: bool) -> None:
    """Pull everything new from every account once (for cron).

    One line per account on stderr says what arrived, and when a stream that had to stop
    early resumes (times in the desk's zone, [hours] timezone). With --quiet only failed
    accounts print a line, so cron mails only what needs a human.

    \b
    Exit codes:
      0   every account was pulled to its end
      1   an account or stream failed (stderr says why); wins over 75
      2   the config or the command line is wrong
      3   the database cannot be opened or upgraded
      70  an unexpected error (please report it)
      75  nothing failed, but something was deferred: a rate limit, a walk's page cap,
          or another socialdesk process syncing the account (EX_TEMPFAIL: try again
          later; the next sync resumes where this one stopped)
    """
    from socialdesk.commands.sync_once import run_sync

    sys.exit(run_sync(config_path, accounts, sys.stderr, quiet))


@cli.command()
@config_option
@click.option("--once", is_flag=True, help="One pass, exactly as `socialdesk sync`, then exit.")
def run(config_path: Path, once: bool) -> None:
    """Keep the queue fresh: poll every account on schedule until SIGTERM or Ctrl-C.

    Each stream is paced by the platform's usage headers, so its budget lasts until the
    window resets. Exits 0 after a clean stop; `--once` exits as `socialdesk sync` does.
    """
    if once:
        from socialdesk.commands.sync_once import run_sync

        sys.exit(run_sync(config_path, (), sys.stderr))
    from socialdesk.scheduler import run_from_config

    sys.exit(run_from_config(config_path))


@cli.command()
@config_option
def doctor(config_path: Path) -> None:
    """Check config, database, tokens and permissions, and the last sync of every stream."""
    from socialdesk.commands.doctor import run_doctor

    sys.exit(run_doctor(config_path, sys.stdout))


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8750, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Simulated customers' seed.")
@click.option("--static", is_flag=True, help="A fixed data set and no new traffic.")
@click.option("--messages", type=click.IntRange(0, 100_000), default=60, show_default=True,
              help="How many customer messages the data set starts with.")
@click.option("--write-config", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a complete config for this sandbox (database beside it).")
@click.option("--rate-window", type=click.IntRange(1, 24 * 3600), default=None, metavar="SECONDS",
              help="Shorten every emulated rate-limit window (15 minutes to an hour) to "
                   "SECONDS, to watch a backfill that needs several windows.")
@click.option("--x-access-level", default="read-write-directmessages", show_default=True,
              type=click.Choice(["read", "read-write", "read-write-directmessages"]),
              help="The X app's permission: without DMs, DM reads and sends are refused.")
def sandbox(port: int, seed: int, static: bool, messages: int, write_config: Path | None,
            rate_window: int | None, x_access_level: str) -> None:
    """Serve a simulated X and Facebook on loopback, for the demo, tests and trying things out."""
    from socialdesk.sandbox import serve

    serve(port=port, seed=seed, static=static, messages=messages,
          write_config_path=write_config, out=sys.stderr, rate_window=rate_window,
          x_access_level=x_access_level)


@cli.command()
@config_option
@click.option("--as", "initials", default=None,
              help="Your initials for this session (default: [operator] initials); they "
                   "also sign {agent} in saved replies in place of [operator] name.")
def tui(config_path: Path, initials: str | None) -> None:
    """Open the desk: the queue, conversations and customer cards, from the keyboard."""
    # Start-up allocates tens of megabytes that live as long as the desk, and no garbage:
    # the collector's passes over them were a tenth of the time to the first screen
    # (benchmarks/tui.py). The app freezes what is loaded and turns collection back on.
    gc.disable()
    try:
        from socialdesk.tui.launch import run_tui

        sys.exit(run_tui(config_path, initials))
    finally:
        gc.enable()


@cli.command()
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--messages", type=click.IntRange(1, 100_000), default=60, show_default=True)
@click.option("--no-tui", is_flag=True,
              help="Sync once and print a summary (the default when stdout is not a terminal).")
def demo(seed: int, messages: int, no_tui: bool) -> None:
    """Run socialdesk on a built-in sandbox with a throwaway database, no account needed."""
    from socialdesk.commands.demo import run_demo

    interactive = not no_tui and sys.stdout.isatty() and sys.stdin.isatty()
    sys.exit(run_demo(seed=seed, messages=messages, out=sys.stdout, interactive=interactive))


@cli.command()
@click.argument("kind", type=click.Choice(REPORT_KINDS))
@config_option
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day (the desk's zone, [hours] timezone), inclusive.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day (the desk's zone, [hours] timezone), inclusive.")
@click.option("--account", default=None, help="Only this account.")
@click.option("-o", "--output", default="-", show_default=True,
              help="File, or - for stdout; a FILE.xlsx is an Excel workbook.")
@click.option("--unmask", is_flag=True, help="Show personal data in clear (audited).")
@click.option("--excel", is_flag=True, help="';'-separated with a BOM, for Italian spreadsheets.")
@click.option("--as", "actor", default=None, help="Who asks for --unmask (initials or name).")
@click.option("--json", "as_json", is_flag=True, help="summary only: one JSON object, not a table.")
def report(kind: str, config_path: Path, since: Any, until: Any, account: str | None,
           output: str, unmask: bool, excel: bool, actor: str | None, as_json: bool) -> None:
    """Export a CSV report, or an Excel workbook with -o FILE.xlsx."""
    from socialdesk.commands.report import ReportCommand
    from socialdesk.commands.report_output import report_to

    since_day: date | None = since.date() if since else None
    until_day: date | None = until.date() if until else None
    if since_day and until_day and until_day < since_day:
        raise UsageError("--until is before --since")
    request = ReportCommand(kind, since_day, until_day, account, unmask, excel, actor,
                            as_json, workbook=output.lower().endswith(".xlsx"))
    rows = report_to(config_path, request, output)
    if kind != "summary":
        click.echo(f"{rows} rows", err=True)


@cli.command()
@click.argument("conversation_id", type=int)
@config_option
@click.option("--text", required=True, help="The answer; checked against the channel's limit.")
@click.option("--as", "operator", default=None,
              help="Your initials (audited; default: [operator] initials).")
@click.option("--public-anyway", is_flag=True,
              help="Answer in public although personal data shown there is not redirected "
                   "yet (audited with your initials).")
def reply(config_path: Path, conversation_id: int, text: str, operator: str | None,
          public_anyway: bool) -> None:
    """Answer a conversation on its own channel through the outbox, and print the state."""
    from socialdesk.commands.reply import run_reply

    sys.exit(run_reply(config_path, conversation_id, text, operator,
                       sys.stdout, public_anyway=public_anyway))


@cli.group(invoke_without_command=True)
@config_option
@click.option("--state", "states", multiple=True,
              type=click.Choice(["pending", "sending", "sent", "failed", "unknown"]),
              help="Only actions in this state (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of tab-separated rows.")
@click.pass_context
def outbox(ctx: click.Context, config_path: Path, states: tuple[str, ...],
           as_json: bool) -> None:
    """List outgoing actions newest first: state, conversation, a masked preview of the text."""
    if ctx.invoked_subcommand is None:
        from socialdesk.commands.reply import run_outbox_list

        rows = run_outbox_list(config_path, states, as_json, sys.stdout)
        click.echo(f"{rows} actions", err=True)


@outbox.command("retry")
@click.argument("action_id", type=int)
@config_option
@click.option("--as", "operator", default=None,
              help="Your initials (audited; default: [operator] initials).")
@click.option("--yes", "checked", is_flag=True,
              help="For an unknown action: you checked the platform and it did not go out.")
def outbox_retry(config_path: Path, action_id: int, operator: str | None,
                 checked: bool) -> None:
    """Send a failed or unknown action again (an unknown one is looked for first)."""
    from socialdesk.commands.reply import run_outbox_retry

    sys.exit(run_outbox_retry(config_path, action_id, operator, checked,
                              sys.stdout))


@cli.command()
@config_option
@click.option("--all", "include_resolved", is_flag=True,
              help="Also the items resolved since (stored after all).")
@click.option("--account", default=None, help="Only this account.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list instead of tab-separated rows.")
def quarantine(config_path: Path, include_resolved: bool, account: str | None,
               as_json: bool) -> None:
    """List the items set aside because they could not be read; each sync tries them again."""
    from socialdesk.commands.quarantine_list import run_quarantine_list

    rows = run_quarantine_list(config_path, include_resolved, account,
                               as_json, sys.stdout)
    click.echo(f"{rows} item(s) {'set aside' if include_resolved else 'waiting'}", err=True)


@cli.group()
def privacy() -> None:
    """The personal-data detector."""


@privacy.command()
@click.argument("texts", nargs=-1)
@config_option
def scan(texts: tuple[str, ...], config_path: Path) -> None:
    """Scan each TEXT, or one text per line of stdin when none is given; write one JSON
    object per text with the entities found."""
    from socialdesk.commands.privacy_scan import run_privacy_scan

    run_privacy_scan(config_path, texts, sys.stdin, sys.stdout)


@privacy.command()
@config_option
@click.option("--account", default=None, help="Only this account.")
def rescan(config_path: Path, account: str | None) -> None:
    """Find the personal data of every stored message again with the configured detector
    settings (after changing [privacy] phone_regions, own_numbers or patterns), so the desk,
    the reports and the guard agree. Decisions already taken are kept."""
    from socialdesk.commands.privacy_rescan import run_privacy_rescan

    sys.exit(run_privacy_rescan(config_path, account, sys.stdout, sys.stderr))


@privacy.command("mode")
@click.argument("account")
@click.argument("mode", required=False, type=click.Choice(["auto", "suggest", "off", "config"]))
@config_option
@click.option("--as", "operator", default=None, help="Your initials (audited; role-checked).")
def privacy_mode(account: str, mode: str | None, config_path: Path, operator: str | None) -> None:
    """Show ACCOUNT's privacy mode, or set MODE for every desk and worker at once (stored
    in the database, audited; `config` gives the decision back to the config file)."""
    from socialdesk.commands.team import run_privacy_mode

    sys.exit(run_privacy_mode(config_path, account, mode, operator, sys.stdout))


@cli.group()
def team() -> None:
    """A team on one PostgreSQL database: desks open now, and roles ([team] in the config)."""


@team.command("who")
@config_option
def team_who(config_path: Path) -> None:
    """The desks open now: who, the conversation open, typing, the ones taken with take-next."""
    from socialdesk.commands.team import run_team_who

    click.echo(f"{run_team_who(config_path, sys.stdout)} desk(s)", err=True)


@team.command("role")
@click.argument("initials", required=False)
@click.argument("role", required=False)
@config_option
@click.option("--remove", is_flag=True, help="Remove the role stored for INITIALS.")
@click.option("--as", "operator", default=None, help="Your initials (audited; role-checked).")
def team_role(initials: str | None, role: str | None, config_path: Path, remove: bool,
              operator: str | None) -> None:
    """Grant ROLE to INITIALS in the database; INITIALS alone: their role; nothing: every
    role. The config's [team] roles win over the database's."""
    from socialdesk.commands.team import run_team_role

    sys.exit(run_team_role(config_path, initials, role, remove, operator, sys.stdout,
                           sys.stderr))


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="socialdesk", standalone_mode=False)
    except SocialdeskError as error:
        render_error(error)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
    except Exception as error:  # noqa: BLE001  (the one edge where a bug becomes a message)
        fault = environment_fault(error)
        if fault is not None:  # a full disk or read-only storage: the user's to fix
            logging.getLogger("socialdesk").debug("%s", fault.title, exc_info=True)
            render_error(fault)
            sys.exit(fault.exit_code)
        logging.getLogger("socialdesk").debug("unexpected error", exc_info=True)
        render_error(UnexpectedError(
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''} "
            "(run with -vv for the traceback; please report it)"
        ))
        sys.exit(UnexpectedError.exit_code)
