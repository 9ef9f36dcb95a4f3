"""The one detector built from `[privacy]`, and the fingerprint of the settings it uses.

Spans are found once, at ingest, and the desk, the reports and the guard all read them. A
change of the settings that decide what is found (phone regions, the brand's own numbers,
custom patterns) makes the stored spans stale; the fingerprint lets `doctor`, `sync` and
the desk see that and say to run `socialdesk privacy rescan`.
"""

from __future__ import annotations

import hashlib
import json

from socialdesk.privacy.detect import Detector
from socialdesk.rules_config import PrivacySettings

DETECTION_REVISION = 1
"""Raise it when the detector finds other things in the same text (a new kind, a changed
rule): stores scanned before then are told to rescan, as after a settings change."""

RESCAN_HINT = ("detector settings changed since the last scan: run socialdesk privacy rescan")


def detector_for(privacy: PrivacySettings) -> Detector:
    """The detector every part of socialdesk uses for these settings."""
    return Detector(regions=privacy.phone_regions, custom_patterns=privacy.patterns,
                    own_numbers=privacy.own_numbers)


def settings_fingerprint(privacy: PrivacySettings) -> str:
    """A short hash of what decides the detector's findings: the regions in their order
    (the first that parses wins), the own numbers as a set, the custom patterns in order
    (an earlier one wins an overlap), and `DETECTION_REVISION`."""
    decisive = {
        "revision": DETECTION_REVISION,
        "regions": [region.upper() for region in privacy.phone_regions],
        "own_numbers": sorted(set(privacy.own_numbers)),
        "patterns": list(privacy.patterns.items()),
    }
    encoded = json.dumps(decisive, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]
