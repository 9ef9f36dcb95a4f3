"""What each platform accepts in an outgoing text, checked before anything is queued."""

from __future__ import annotations

import re
import unicodedata

from connectors.base import ActionKind
from socialdesk.errors import SocialdeskError

X_POST_LIMIT = 280
"""X counts weighted characters: most Latin text 1 each, CJK and emoji 2, any URL 23."""
X_URL_LENGTH = 23
X_DM_LIMIT = 10_000
MESSENGER_LIMIT = 2_000
"""Messenger's Send API refuses text longer than 2,000 characters (private replies too)."""
FACEBOOK_COMMENT_LIMIT = 8_000

X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
"""Code points X weighs 1 (twitter-text v3 configuration); every other one weighs 2."""

URL = re.compile(
    r"(?i)\b(?:https?://[^\s]+|www\.[^\s]+|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|it|io|co|"
    r"eu|uk|de|fr|es|info|biz|ly|me|app|dev|shop|store)(?:/[^\s]*)?)"
)


class ChannelRuleError(SocialdeskError):
    """The action breaks a platform or channel rule; nothing was queued."""

    title = "refused before sending"
    exit_code = 2


def x_weighted_length(text: str) -> int:
    """The length X counts: NFC text, each URL as 23, heavy code points as 2."""
    normalized = unicodedata.normalize("NFC", text)
    length = 0
    position = 0
    for match in URL.finditer(normalized):
        length += _weigh(normalized[position:match.start()]) + X_URL_LENGTH
        position = match.end()
    return length + _weigh(normalized[position:])


def _weigh(text: str) -> int:
    return sum(1 if any(low <= ord(ch) <= high for low, high in X_LIGHT_RANGES) else 2
               for ch in text)


def text_limit(platform: str, kind: ActionKind) -> int:
    if platform == "x":
        return X_POST_LIMIT if kind is ActionKind.REPLY else X_DM_LIMIT
    return FACEBOOK_COMMENT_LIMIT if kind is ActionKind.REPLY else MESSENGER_LIMIT


def text_length(platform: str, kind: ActionKind, text: str) -> int:
    if platform == "x" and kind is ActionKind.REPLY:
        return x_weighted_length(text)
    return len(text)


def check_text(platform: str, kind: ActionKind, text: str | None) -> None:
    """Refuse an empty text, or one over the platform's limit, saying by how much."""
    if text is None or not text.strip():
        raise ChannelRuleError("the text is empty")
    length, limit = text_length(platform, kind, text), text_limit(platform, kind)
    if length > limit:
        what = "X post" if platform == "x" and kind is ActionKind.REPLY else (
            f"{platform} {kind.value.replace('_', ' ')}")
        counted = " (as X counts: URLs 23, emoji and CJK 2)" if what == "X post" else ""
        raise ChannelRuleError(
            f"the text is {length} characters{counted}; an {what} allows {limit}: "
            f"shorten it by {length - limit}"
        )
