"""`socialdesk privacy scan` starts without what only other commands need: no config
models (pydantic) without a config, no database layer, no TUI; and `socialdesk --help`
loads no detector. Import weight is the start-up time (issue 15: under 0.3 s)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY_FOR_A_SCAN = ("pydantic", "sqlalchemy", "sqlmodel", "textual", "requests", "tweepy",
                    "apscheduler", "lingua")
DETECTOR = ("phonenumbers", "stdnum", "socialdesk.privacy.detect")


def modules_after(code: str, stdin: str = "") -> tuple[set[str], str]:
    """The modules loaded once `code` ran, and what it wrote on stdout."""
    probe = f"{code}\nimport json, sys\nsys.stderr.write(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], input=stdin, capture_output=True,
                            text=True, check=True)
    return set(json.loads(result.stderr.strip().splitlines()[-1])), result.stdout


def test_a_scan_without_config_loads_only_the_detector() -> None:
    loaded, output = modules_after(
        "from socialdesk.cli import main\n"
        "try:\n    main(['privacy', 'scan', '--config', '/nonexistent/socialdesk.toml'])\n"
        "except SystemExit:\n    pass",
        stdin="chiamatemi al 347 123 4567\n")
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY_FOR_A_SCAN)
    assert json.loads(output)["entities"][0]["type"] == "PHONE"


def test_the_cli_alone_loads_no_detector() -> None:
    loaded, _ = modules_after("import socialdesk.cli")
    assert not {m for m in loaded if m.split(".")[0] in DETECTOR or m in DETECTOR}
