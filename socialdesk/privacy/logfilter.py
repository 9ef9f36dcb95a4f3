"""A logging filter that masks personal data in every record's message."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialdesk.privacy.detect import Detector


class PersonalDataFilter(logging.Filter):
    """Rewrites each record's message with personal data masked (`+39 *** *** **67`).

    Runs after formatting the arguments, so a customer's text passed as `%s` is masked
    too. Install it on handlers next to `RedactingFilter` (tokens).
    """

    def __init__(self, detector: Detector | None = None) -> None:
        super().__init__()
        self._detector = detector

    def filter(self, record: logging.LogRecord) -> bool:
        # imported here: `socialdesk --help` should not pay for phonenumbers' metadata
        from socialdesk.privacy.detect import default_detector
        from socialdesk.privacy.mask import mask_text

        message = record.getMessage()
        detector = self._detector or default_detector()
        entities = detector.scan(message)
        if entities:
            message = mask_text(message, entities)
        record.msg, record.args = message, None
        return True
