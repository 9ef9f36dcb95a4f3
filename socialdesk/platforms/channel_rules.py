"""The refusal of an action a platform would refuse."""

from __future__ import annotations

from socialdesk.errors import SocialdeskError


class ChannelRuleError(SocialdeskError):
    """The action breaks a platform or channel rule; nothing was queued."""

    title = "refused before sending"
    exit_code = 2
