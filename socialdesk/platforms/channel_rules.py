"""The refusal of an action a platform would refuse, and what a link is in a text."""

from __future__ import annotations

import re

from socialdesk.errors import SocialdeskError

URL = re.compile(
    r"(?i)\b(?:https?://[^\s]+|www\.[^\s]+|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|it|io|co|"
    r"eu|uk|de|fr|es|info|biz|ly|me|app|dev|shop|store)(?:/[^\s]*)?)"
)
"""What platforms that weigh links count as one: the scheme may be left out."""


class ChannelRuleError(SocialdeskError):
    """The action breaks a platform or channel rule; nothing was queued."""

    title = "refused before sending"
    exit_code = 2
