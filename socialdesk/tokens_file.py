"""Reads the tokens file a config may name (`[secrets] tokens_file`), for cron and systemd.

cron and systemd start socialdesk with an almost empty environment (`env -i`, a few
variables at most), so the token variables a shell profile exports never reach it. The
tokens file holds those variables as `NAME=value` lines, the format of systemd's
`EnvironmentFile=` and of `.env` files; it is read with python-dotenv, never executed, and
never copied into the process environment. A variable set in the environment wins over the
file, so one shell can still try a new token without editing it.
"""

from __future__ import annotations

from pathlib import Path

from socialdesk.errors import ConfigError


def read_tokens_file(path: Path) -> dict[str, str]:
    """`NAME=value` pairs of `path`; a missing or unreadable file is a one-line ConfigError
    (a cron line would otherwise fail every account with "variable not set")."""
    from dotenv import dotenv_values

    try:
        with path.open(encoding="utf-8") as stream:
            values = dotenv_values(stream=stream)
    except FileNotFoundError:
        raise ConfigError(f"{path}: tokens_file names no file here; create it with one "
                          "NAME=value line per token variable (chmod 600)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the tokens file ({error})") from None
    return {name: value for name, value in values.items() if value}
