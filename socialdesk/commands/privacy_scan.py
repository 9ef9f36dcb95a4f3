"""`socialdesk privacy scan`: one text per input line, one JSON object per output line.

Output contract (DESIGN.md, "Public contract"):
``{"text": …, "entities": [{"type": …, "start": …, "end": …}]}`` with offsets in Python
code points into ``text``, which is the input line without its line ending. Values are
not repeated in the output: `text[start:end]` gives them, and a log of the output then
holds the data only once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from socialdesk.config import load_settings
from socialdesk.privacy.detect import Detector
from socialdesk.rules_config import PrivacySettings

_LINE_ENDINGS = "\r\n"


def scan_line(text: str, detector: Detector) -> dict[str, object]:
    """The JSON-ready record for one text."""
    return {
        "text": text,
        "entities": [
            {"type": e.type, "start": e.start, "end": e.end} for e in detector.scan(text)
        ],
    }


def scan_lines(lines: Iterable[str], out: TextIO, detector: Detector) -> int:
    """Write one JSON object per line of `lines` to `out`; return how many were written.

    Only the trailing newline (``\\n`` or ``\\r\\n``) is stripped, so offsets match the
    text as the customer wrote it, leading spaces included.
    """
    count = 0
    for line in lines:
        text = line.rstrip(_LINE_ENDINGS) if line.endswith("\n") else line
        out.write(json.dumps(scan_line(text, detector), ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def run_privacy_scan(config_path: Path, lines: TextIO, out: TextIO) -> int:
    """Uses the config's privacy settings when a config exists, the defaults otherwise."""
    privacy = load_settings(config_path).privacy if config_path.exists() else PrivacySettings()
    detector = Detector(
        regions=privacy.phone_regions,
        custom_patterns=privacy.patterns,
        own_numbers=privacy.own_numbers,
    )
    return scan_lines(lines, out, detector)
