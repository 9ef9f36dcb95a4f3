"""Every time the desk shows, in the desk's one zone (`[hours] timezone`), and named.

The store keeps UTC; the thread used to print it as UTC while the card printed it bare,
so the same message read 11:55 in one and 12:55 on the operator's wall clock. One zone,
the one the desk's opening hours and SLA due times are written in, and its name beside
the time (`12:55 CET`), or once above a column of times (`times in Europe/Rome`).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from socialdesk.clock import zone_name
from socialdesk.rules_config import DEFAULT_TIMEZONE

DEFAULT_ZONE = ZoneInfo(DEFAULT_TIMEZONE)
"""`[hours] timezone`'s default (Europe/Rome), for a desk whose config has no `[hours]`;
a desk with a config takes `Settings.desk_zone`."""
NO_TIME = "-"


def full_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """`2026-11-30 12:55 CET`: a message in the thread, a choice in a pick list."""
    if moment is None:
        return NO_TIME
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone_name(moment, zone)}"


def day_time(moment: datetime | None, zone: ZoneInfo) -> str:
    """`30 Nov 12:55`: short enough for the customer card's narrow column, which names
    the zone once (`zone_header`)."""
    return f"{moment.astimezone(zone):%d %b %H:%M}" if moment is not None else NO_TIME


def due_time(moment: datetime, now: datetime, zone: ZoneInfo) -> str:
    """`14:05 CET` on the same day as `now` (in the zone), `1 Dec 09:00 CET` on another."""
    local = moment.astimezone(zone)
    shown = (f"{local:%H:%M}" if local.date() == now.astimezone(zone).date()
             else f"{local:%d %b %H:%M}")
    return f"{shown} {zone_name(moment, zone)}"


def zone_header(zone: ZoneInfo) -> str:
    return f"times in {zone.key}"
