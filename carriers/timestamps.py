"""Provider date and time formats turned into UTC datetimes and calendar dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from carriers.base import PayloadError

__all__ = [
    "parse_calendar_date",
    "parse_compact",
    "parse_compact_date",
    "parse_epoch",
    "parse_instant",
]

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_COMPACT_DATE = re.compile(r"\d{8}")
_COMPACT_TIME = re.compile(r"\d{5,6}")
# fromisoformat is lenient and a long string is never a timestamp; refuse early.
_MAX_LEN = 64


def _utc(moment: datetime, where: str) -> datetime:
    if moment.tzinfo is None:
        # Providers that omit the offset (AfterShip and FedEx sometimes do) give no way to
        # know the local zone; UTC is the documented assumption, see each adapter.
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise PayloadError(f"{where}: time is out of range") from None


def parse_instant(value: str, where: str) -> datetime:
    """An ISO 8601 timestamp (``Z``, offsets, fractions; a bare date means midnight) in UTC."""
    text = value.strip()
    if not text or len(text) > _MAX_LEN:
        raise PayloadError(f"{where}: {value!r} is not a timestamp")
    try:
        if _DATE_ONLY.fullmatch(text):
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{where}: {value!r} is not an ISO 8601 timestamp") from None
    return _utc(moment, where)


def parse_calendar_date(value: str, where: str) -> date:
    """The calendar date of ``YYYY-MM-DD`` or of a timestamp, as written.

    The date part is taken before any time zone conversion: an estimated delivery date is a
    day at the destination, and shifting it to UTC could move it by one.
    """
    text = value.strip()
    head, rest = text[:10], text[10:]
    if not _DATE_ONLY.fullmatch(head) or (rest and rest[0] not in "T "):
        raise PayloadError(f"{where}: {value!r} is not a date")
    try:
        parsed = date.fromisoformat(head)
        if rest:
            parse_instant(text, where)
    except ValueError:
        raise PayloadError(f"{where}: {value!r} is not a date") from None
    return parsed


def parse_compact(day: str, clock: str | None, where: str) -> datetime:
    """UPS style ``YYYYMMDD`` plus ``HHMMSS`` (leading zero sometimes dropped), read as UTC."""
    day = day.strip()
    clock = (clock or "000000").strip() or "000000"
    if not _COMPACT_DATE.fullmatch(day) or not _COMPACT_TIME.fullmatch(clock):
        raise PayloadError(f"{where}: {day!r} {clock!r} is not a YYYYMMDD HHMMSS time")
    clock = clock.zfill(6)
    try:
        return datetime(
            int(day[:4]),
            int(day[4:6]),
            int(day[6:]),
            int(clock[:2]),
            int(clock[2:4]),
            int(clock[4:]),
            tzinfo=UTC,
        )
    except ValueError:
        raise PayloadError(f"{where}: {day!r} {clock!r} is not a valid time") from None


def parse_compact_date(day: str, where: str) -> date:
    """UPS style ``YYYYMMDD``."""
    return parse_compact(day, None, where).date()


def parse_epoch(value: object, where: str) -> datetime:
    """Unix seconds (integer or float) as a UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(f"{where}: expected Unix seconds")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"{where}: {value!r} is out of range") from None
