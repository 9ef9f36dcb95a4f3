"""`socialdesk quarantine`: the items set aside because they could not be read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from socialdesk.config import load_settings
from socialdesk.store.db import open_configured_store


def run_quarantine_list(
    config_path: Path, include_resolved: bool, account: str | None, as_json: bool, out: TextIO
) -> int:
    """The set-aside items, tab-separated or as JSON lines; returns how many were listed."""
    from socialdesk.store.quarantine import list_quarantined

    settings = load_settings(config_path)
    if account:
        settings.account(account)
    engine = open_configured_store(settings)
    rows = list_quarantined(engine, include_resolved=include_resolved, account=account)
    if as_json:
        print(json.dumps([row.as_dict() for row in rows], indent=2), file=out)
        return len(rows)
    print("id\taccount\tstream\tplatform_id\treason\treceived_at\tattempts\tlast_attempt_at"
          + ("\tresolved_at" if include_resolved else ""), file=out)
    for row in rows:
        cells = row.as_dict()
        values = [cells[name] for name in ("id", "account", "stream", "platform_id", "reason",
                                          "received_at", "attempts", "last_attempt_at")]
        if include_resolved:
            values.append(cells["resolved_at"])
        print("\t".join("" if value is None else str(value).replace("\t", " ")
                        for value in values), file=out)
    return len(rows)
