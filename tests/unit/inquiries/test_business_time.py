"""Business time on a calendar: opening hours in a zone, holidays, DST days, night shifts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.domain.business_time import BusinessCalendar, CalendarClosed, OpeningHours

LONDON = ZoneInfo("Europe/London")
NINE_TO_FIVE = (OpeningHours(9 * 60, 17 * 60),)
WEEKDAYS = BusinessCalendar("Europe/London", {d: NINE_TO_FIVE for d in range(5)})
ALL_DAY = BusinessCalendar("Europe/London", {d: (OpeningHours(0, 1440),) for d in range(7)})


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


# (calendar, start, business minutes, expected local end)
ADD_TABLE = [
    # inside one day
    (WEEKDAYS, at(2027, 3, 2, 10), 60, at(2027, 3, 2, 11)),
    # before opening: counts from 09:00
    (WEEKDAYS, at(2027, 3, 2, 7), 30, at(2027, 3, 2, 9, 30)),
    # Friday 16:30 + 60 min: 30 on Friday, 30 on Monday
    (WEEKDAYS, at(2027, 3, 5, 16, 30), 60, at(2027, 3, 8, 9, 30)),
    # Friday evening (closed): Monday morning
    (WEEKDAYS, at(2027, 3, 5, 19), 240, at(2027, 3, 8, 13)),
    # exactly at closing: the next opening
    (WEEKDAYS, at(2027, 3, 2, 17), 1, at(2027, 3, 3, 9, 1)),
    # a whole day is 480 minutes
    (WEEKDAYS, at(2027, 3, 2, 9), 480, at(2027, 3, 2, 17)),
    # zero minutes: due at once
    (WEEKDAYS, at(2027, 3, 6, 12), 0, at(2027, 3, 6, 12)),
    # spring forward (28 Mar 2027, 01:00 -> 02:00): the day has 23 hours
    (ALL_DAY, at(2027, 3, 28), 23 * 60, at(2027, 3, 29)),
    # fall back (31 Oct 2027): the day has 25 hours
    (ALL_DAY, at(2027, 10, 31), 25 * 60, at(2027, 11, 1)),
]


@pytest.mark.parametrize(("calendar", "start", "amount", "expected"), ADD_TABLE)
def test_add_business_minutes(
    calendar: BusinessCalendar, start: datetime, amount: int, expected: datetime
) -> None:
    end = calendar.add(start, timedelta(minutes=amount))
    assert end == expected.astimezone(UTC)
    assert calendar.between(start, end) == timedelta(minutes=amount)


def test_business_hours_follow_the_local_clock_across_dst() -> None:
    # 09:00 London is 09:00 UTC in winter and 08:00 UTC in summer.
    winter = WEEKDAYS.add(at(2027, 3, 26, 8), timedelta(minutes=1))  # Friday before the change
    summer = WEEKDAYS.add(at(2027, 3, 29, 8), timedelta(minutes=1))  # Monday after it
    assert winter == datetime(2027, 3, 26, 9, 1, tzinfo=UTC)
    assert summer == datetime(2027, 3, 29, 8, 1, tzinfo=UTC)


def test_country_holidays_and_listed_dates_are_closed() -> None:
    calendar = BusinessCalendar(
        "Europe/London",
        {d: NINE_TO_FIVE for d in range(5)},
        countries=("GB",),
        dates=frozenset({date(2027, 12, 29)}),
    )
    # Christmas Eve 2027 is a Friday; 25-28 Dec are closed (weekend, bank holidays on Mon
    # 27 and Tue 28 for Christmas and Boxing Day falling on the weekend), 29 Dec is listed.
    start = at(2027, 12, 24, 16)
    assert calendar.add(start, timedelta(minutes=120)) == at(2027, 12, 30, 10).astimezone(UTC)
    assert calendar.is_holiday(date(2027, 12, 27))
    assert not calendar.is_holiday(date(2027, 12, 30))


def test_subdivision_holidays() -> None:
    scotland = BusinessCalendar("Europe/London", {}, countries=("GB-SCT",))
    england = BusinessCalendar("Europe/London", {}, countries=("GB-ENG",))
    assert scotland.is_holiday(date(2027, 1, 4))  # 2 January holiday, moved to Monday
    assert not england.is_holiday(date(2027, 1, 4))


def test_several_stretches_a_day_and_a_night_to_midnight() -> None:
    split = BusinessCalendar(
        "UTC", {0: (OpeningHours(8 * 60, 12 * 60), OpeningHours(13 * 60, 24 * 60))}
    )
    monday = datetime(2027, 3, 1, 11, tzinfo=UTC)
    assert split.add(monday, timedelta(minutes=120)) == datetime(2027, 3, 1, 14, tzinfo=UTC)
    assert split.between(monday, datetime(2027, 3, 2, tzinfo=UTC)) == timedelta(hours=12)


def test_between_with_end_before_start_is_zero() -> None:
    assert WEEKDAYS.between(at(2027, 3, 2, 12), at(2027, 3, 2, 10)) == timedelta(0)


def test_a_calendar_that_never_opens_says_so() -> None:
    closed = BusinessCalendar("UTC", {})
    with pytest.raises(CalendarClosed):
        closed.add(datetime(2027, 3, 1, tzinfo=UTC), timedelta(minutes=1))


def test_opening_hours_must_lie_within_a_day() -> None:
    with pytest.raises(ValueError, match="within one day"):
        OpeningHours(600, 1500)
