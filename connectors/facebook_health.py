"""Health of a Facebook account for `socialdesk doctor`: the Page, its edges, the app's access.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors._payload import data_list, str_or_none
from connectors.base import AccountSettings, FatalAPIError
from connectors.facebook_errors import PERMISSION_CODES

EDGE_PERMISSIONS = {
    "feed": "pages_read_engagement and pages_read_user_content (Page task MODERATE for comments)",
    "conversations": "pages_manage_metadata, pages_read_engagement and pages_messaging "
                     "(Page task MESSAGING)",
}
"""What each polled edge needs (Meta: Pages API; Conversations API, 2026-02; Graph ref:
comments, conversations)."""

READ_PERMISSIONS = (
    "pages_manage_metadata", "pages_messaging", "pages_read_engagement",
    "pages_read_user_content",
)
"""What reading the feed and Messenger needs (Meta: Pages API; Conversations API, 2026-02)."""
APPROVED_STATUS = "live"
"""`status` of a permission approved through App Review in `/{app-id}/permissions` (Graph
ref: Application Permission); the reference lists no other value we could confirm."""


@dataclass(frozen=True)
class AppAccess:
    """The app a Page token belongs to and its permissions with Advanced Access (None when
    they could not be read: no app secret configured)."""

    app_id: str
    name: str
    advanced: frozenset[str] | None

    def standard_only(self) -> list[str]:
        """The read permissions that have only Standard Access."""
        if self.advanced is None:
            return []
        return [p for p in READ_PERMISSIONS if p not in self.advanced]


class GraphHealth:
    """The checks `socialdesk doctor` runs on a Facebook account, read-only."""

    account: AccountSettings
    page_id: str
    root: str
    _get: Callable[..., tuple[dict[str, Any], Mapping[str, str]]]


    def whoami(self) -> dict[str, str]:
        """`GET /{page-id}?fields=id,name` with the Page token.

        Raises: AuthExpired on code 190, RateLimited when throttled, FatalAPIError otherwise.
        """
        body, _ = self._get(f"{self.root}/{self.page_id}", [("fields", "id,name")], "page")
        return {"id": str(body.get("id", "")), "name": str(body.get("name", ""))}

    def check_edge(self, edge: str) -> None:
        """One read of an edge socialdesk polls (`feed`, `conversations`); raises as `whoami`,
        naming the permission or Page task behind a code 10 or 200-299 refusal."""
        params = [("limit", "1")] + ([("platform", "messenger")] if edge == "conversations" else [])
        try:
            self._get(f"{self.root}/{self.page_id}/{edge}", params, edge)
        except FatalAPIError as error:
            code = re.search(r"code (\d+)", str(error))
            if code and int(code[1]) in PERMISSION_CODES:
                needs = EDGE_PERMISSIONS[edge]
                raise FatalAPIError(f"{error}; reading {edge} needs {needs}") from None
            raise

    def app_access(self) -> AppAccess:
        """The app behind the Page token, and which permissions socialdesk reads with have
        Advanced Access.

        Permissions with Standard Access reach only people with a role on the app; Advanced
        Access is granted per permission through App Review (Meta: Access Levels).
        `GET /app` names the token's app; `GET /{app-id}/permissions` lists the permissions
        approved through review and needs an app token, the app id and its secret (Graph
        ref: Application Permissions). Without `app_secret_env` the level stays unknown.
        """
        body, _ = self._get(f"{self.root}/app", [("fields", "id,name")], "app")
        app_id = str_or_none(body.get("id")) or ""
        name = str_or_none(body.get("name")) or app_id
        secret = self.account.secrets.get("app_secret")
        if not app_id or not secret:
            return AppAccess(app_id, name, None)
        body, _ = self._get(f"{self.root}/{app_id}/permissions", [], "app permissions",
                            token=f"{app_id}|{secret}")
        approved = frozenset(
            str(entry.get("permission")) for entry in data_list(body)
            if isinstance(entry, dict) and entry.get("status") == APPROVED_STATUS)
        return AppAccess(app_id, name, approved)

