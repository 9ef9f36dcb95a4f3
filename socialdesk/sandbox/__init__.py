"""A loopback emulator of the X API v2 and Graph API subsets socialdesk uses.

Used by `socialdesk demo`, `socialdesk sandbox` and the integration and fault tests: the
real connectors (tweepy re-hosted through a transport adapter, `requests` for Graph)
run against it unchanged. See `SandboxServer` for the data it holds.
"""

from __future__ import annotations

from socialdesk.sandbox.faults import Fault
from socialdesk.sandbox.options import SANDBOX_TOKEN_ENV, sandbox_config_text, write_config
from socialdesk.sandbox.runner import serve
from socialdesk.sandbox.server import SandboxServer
from socialdesk.sandbox.state import FACEBOOK_PAGE_ID, FACEBOOK_PAGE_NAME, X_USER_ID, X_USERNAME

__all__ = [
    "FACEBOOK_PAGE_ID",
    "FACEBOOK_PAGE_NAME",
    "SANDBOX_TOKEN_ENV",
    "X_USERNAME",
    "X_USER_ID",
    "Fault",
    "SandboxServer",
    "sandbox_config_text",
    "serve",
    "write_config",
]
