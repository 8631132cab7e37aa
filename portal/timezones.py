"""Customers' time zones: a zone by name (UTC when the name is unknown), a moment's local date."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date(moment: datetime, tz_name: str) -> date:
    """The date it is at `moment` in the zone named `tz_name` (a customer's "today")."""
    return moment.astimezone(zone(tz_name)).date()
