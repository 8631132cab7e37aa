"""Time arithmetic and aggregate helpers in SQL that read the same on SQLite and PostgreSQL.

SQLite keeps UTC timestamps as text and dates as 'YYYY-MM-DD'; it has no time zones, so the
portal registers `portal_local_date(timestamp, zone)` on every SQLite connection (portal.db).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

LOCAL_DATE_FUNCTION = "portal_local_date"


def sqlite_local_date(stamp: str | None, zone: str) -> str | None:
    """The SQLite function: a stored UTC timestamp's local date in `zone`, as ISO text."""
    if stamp is None:
        return None
    instant = datetime.fromisoformat(stamp)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(zone)).date().isoformat()


def register_sqlite_functions(dbapi_connection: Any) -> None:
    dbapi_connection.create_function(LOCAL_DATE_FUNCTION, 2, sqlite_local_date, deterministic=True)


def local_date(dialect: str, stamp: Any, zone: str) -> ColumnElement[Any]:
    """The local date (in `zone`) of a UTC timestamp column."""
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone(sa.literal(zone), stamp), sa.Date)
    return sa.func.portal_local_date(stamp, sa.literal(zone))


def days_between(dialect: str, earlier: Any, later: Any) -> ColumnElement[Any]:
    """later - earlier in whole days, for two date expressions."""
    if dialect == "postgresql":
        return sa.cast(later, sa.Date) - sa.cast(earlier, sa.Date)
    return sa.cast(sa.func.julianday(later) - sa.func.julianday(earlier), sa.Integer)


def seconds_between(dialect: str, earlier: Any, later: Any) -> ColumnElement[Any]:
    """later - earlier in seconds, for two timestamp expressions."""
    if dialect == "postgresql":
        return sa.extract("epoch", later - earlier)
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0


def within(column: Any, bounds: tuple[datetime, datetime] | None) -> ColumnElement[bool]:
    """`column` in [start, end); every row when `bounds` is None."""
    if bounds is None:
        return sa.true()
    return sa.and_(column >= bounds[0], column < bounds[1])


def count_if(condition: Any) -> ColumnElement[Any]:
    """How many rows of the group meet `condition` (0, never NULL)."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def nearest_rank_value(percent: int, rank: Any, count: Any, value: Any) -> ColumnElement[Any]:
    """Over rows numbered `rank` of `count`, the value at the nearest rank (kpis.nearest_rank)."""
    return sa.func.min(sa.case((rank == (count * percent + 99) // 100, value)))
