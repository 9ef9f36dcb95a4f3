"""`[privacy.patterns]` are the user's own regular expressions: a wrong one is a config error in
one line (exit 2) when the config is read, and none can hang a scan, since they are matched by
RE2 in linear time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from socialdesk.errors import ConfigError
from socialdesk.privacy import Detector
from socialdesk.rules_config import PrivacySettings, compile_custom_pattern
from tests.support import run_cli


def config_with(tmp_path: Path, pattern: str) -> Path:
    config = tmp_path / "config.toml"
    escaped = pattern.replace("\\", "\\\\").replace('"', '\\"')
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "desk.db"}"\n'
                      f'[privacy.patterns]\nticket = "{escaped}"\n')
    return config


@pytest.mark.parametrize(("pattern", "reason"), [
    ("(", "missing )"),
    ("(?<=TK-)[0-9]+", "invalid perl operator"),  # lookbehind: RE2 has none
    (r"(\d)\1", "invalid escape sequence"),  # backreference
])
@pytest.mark.parametrize("command", [("privacy", "scan"), ("sync",), ("report", "summary")])
def test_an_invalid_pattern_is_one_config_line_with_exit_2(
    tmp_path: Path, pattern: str, reason: str, command: tuple[str, ...]
) -> None:
    config = config_with(tmp_path, pattern)
    result = run_cli(*command, "--config", str(config), stdin="TK-1234\n")
    assert result.returncode == ConfigError.exit_code == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(
        f"socialdesk: config error: {config}: privacy.patterns: pattern 'ticket' is not a "
        f"valid RE2 regular expression ({reason}")
    assert "please report it" not in result.stderr and result.stdout == ""


def test_a_catastrophic_pattern_cannot_hang_privacy_scan(tmp_path: Path) -> None:
    """`(a+)+$` backtracks 2^n steps on n a's and a '!' in Python's re: 40 had not ended
    after 10 s on main; 5,000 would never end."""
    config = config_with(tmp_path, "(a+)+$")
    lines = "a" * 5000 + "!\n" + "see aaaa\n"
    started = time.monotonic()
    result = run_cli("privacy", "scan", "--config", str(config), stdin=lines)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    scanned = [json.loads(line) for line in result.stdout.splitlines()]
    assert scanned[0]["entities"] == []
    assert scanned[1]["entities"] == [{"type": "CUSTOM:ticket", "start": 4, "end": 8}]


def test_the_value_group_and_unicode_text_keep_their_meaning() -> None:
    """RE2 reports spans of the Python string, not of its UTF-8 bytes."""
    detector = Detector(custom_patterns={"ticket": r"TK-(?P<value>[0-9]{4})\b"})
    entities = detector.scan("città già TK-1234 ok")
    assert [(e.type, e.start, e.end, e.value) for e in entities] == [
        ("CUSTOM:ticket", 13, 17, "1234")]


def test_the_config_check_is_the_one_the_detector_uses() -> None:
    with pytest.raises(ValueError, match="lookarounds and backreferences"):
        compile_custom_pattern("x", "a(?!b)")
    assert PrivacySettings(patterns={"ok": r"\bORD-[0-9]{8}\b"}).patterns == {
        "ok": r"\bORD-[0-9]{8}\b"}
