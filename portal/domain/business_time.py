"""Business time: the opening hours of a support desk in its time zone, less its holidays.

Pure (no clock reads, no I/O): the country holiday tables come from the ``holidays`` package,
which computes them. Every instant given or returned is a timezone-aware datetime; business hours
are wall-clock times in the calendar's zone, so a day on which the clocks change has an hour more
or less of business time, as it has for the people working it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays as holiday_tables

MINUTES_PER_DAY = 24 * 60
# A calendar must open within this many days of any instant; more means it is (nearly) closed.
MAX_CLOSED_DAYS = 3 * 366


class CalendarClosed(ValueError):
    """The calendar has no business time within MAX_CLOSED_DAYS of the instant asked about."""


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """One stretch of a day, in minutes after local midnight (``end`` may be 1440, "24:00")."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(f"opening hours {self.start}-{self.end} are not within one day")


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday (0 = Monday), a time zone, country holidays and listed dates."""

    timezone: str
    hours: Mapping[int, tuple[OpeningHours, ...]]
    countries: tuple[str, ...] = ()
    dates: frozenset[date] = field(default_factory=frozenset)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _country_tables(self) -> tuple[holiday_tables.HolidayBase, ...]:
        tables = []
        for code in self.countries:
            country, _, subdiv = code.partition("-")
            tables.append(holiday_tables.country_holidays(country, subdiv=subdiv or None))
        return tuple(tables)

    def is_holiday(self, day: date) -> bool:
        return day in self.dates or any(day in table for table in self._country_tables)

    def open_hours(self, day: date) -> tuple[OpeningHours, ...]:
        if self.is_holiday(day):
            return ()
        return self.hours.get(day.weekday(), ())

    def intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Business intervals [a, b) in UTC, in order, from ``start`` on (the first clipped)."""
        start = start.astimezone(UTC)
        day = start.astimezone(self.zone).date()
        closed = 0
        while True:
            found = False
            for a, b in self._day_intervals(day):
                if b <= start:
                    continue
                found = True
                yield max(a, start), b
            closed = 0 if found else closed + 1
            if closed > MAX_CLOSED_DAYS:
                raise CalendarClosed(f"no business hours within {MAX_CLOSED_DAYS} days")
            day += timedelta(days=1)

    def _day_intervals(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        for hours in self.open_hours(day):
            yield self._instant(day, hours.start), self._instant(day, hours.end)

    def _instant(self, day: date, minute: int) -> datetime:
        if minute == MINUTES_PER_DAY:
            day, minute = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which ``amount`` of business time after ``start`` has passed."""
        if amount <= timedelta(0):
            return start.astimezone(UTC)
        remaining = amount
        for a, b in self.intervals_from(start):
            if b - a >= remaining:
                return a + remaining
            remaining -= b - a
        raise AssertionError("unreachable: intervals_from never ends")  # pragma: no cover

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time within [start, end)."""
        total = timedelta(0)
        if end <= start:
            return total
        end = end.astimezone(UTC)
        for a, b in self.intervals_from(start):
            if a >= end:
                break
            total += min(b, end) - a
        return total


def minutes(amount: timedelta) -> float:
    return amount.total_seconds() / 60
