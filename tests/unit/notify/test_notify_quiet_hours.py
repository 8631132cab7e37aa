from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from portal.notify.kinds import Channel
from portal.notify.rules import CustomerPrefs, send_after, sms_send_after


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timezone", "now", "expected"),
    [
        # London in winter (UTC+0): 20:59 is before quiet hours, 21:00 starts them
        ("Europe/London", utc(2027, 1, 15, 20, 59), utc(2027, 1, 15, 20, 59)),
        ("Europe/London", utc(2027, 1, 15, 21, 0), utc(2027, 1, 16, 8, 0)),
        # after midnight: wait for 08:00 the same day
        ("Europe/London", utc(2027, 1, 16, 3, 30), utc(2027, 1, 16, 8, 0)),
        ("Europe/London", utc(2027, 1, 16, 8, 0), utc(2027, 1, 16, 8, 0)),
        # London in summer (UTC+1): 07:30 UTC is 08:30 local, fine; 06:30 UTC is 07:30 local
        ("Europe/London", utc(2027, 7, 1, 7, 30), utc(2027, 7, 1, 7, 30)),
        ("Europe/London", utc(2027, 7, 1, 6, 30), utc(2027, 7, 1, 7, 0)),
        # New York (UTC-5 in winter): 02:00 UTC is 21:00 the previous evening
        ("America/New_York", utc(2027, 1, 16, 2, 0), utc(2027, 1, 16, 13, 0)),
        ("America/New_York", utc(2027, 1, 16, 1, 59), utc(2027, 1, 16, 1, 59)),
        # Tokyo (UTC+9): 13:00 UTC is 22:00 local; 08:00 local is 23:00 UTC
        ("Asia/Tokyo", utc(2027, 3, 1, 13, 0), utc(2027, 3, 1, 23, 0)),
        # Kolkata's half-hour offset (UTC+5:30): 16:00 UTC is 21:30 local
        ("Asia/Kolkata", utc(2027, 3, 1, 16, 0), utc(2027, 3, 2, 2, 30)),
    ],
)
def test_quiet_hours(timezone: str, now: datetime, expected: datetime) -> None:
    assert sms_send_after(now, CustomerPrefs(timezone=timezone)) == expected


def test_spring_forward_day_new_york() -> None:
    # 2027-03-14 02:00 EST jumps to 03:00 EDT. 22:00 EST on the 13th is 03:00 UTC;
    # 08:00 EDT on the 14th is 12:00 UTC (not 13:00, as a fixed offset would say).
    prefs = CustomerPrefs(timezone="America/New_York")
    assert sms_send_after(utc(2027, 3, 14, 3, 0), prefs) == utc(2027, 3, 14, 12, 0)


def test_fall_back_day_new_york() -> None:
    # 2027-11-07 02:00 EDT falls back to 01:00 EST. 22:00 EDT on the 6th is 02:00 UTC;
    # 08:00 EST on the 7th is 13:00 UTC.
    prefs = CustomerPrefs(timezone="America/New_York")
    assert sms_send_after(utc(2027, 11, 7, 2, 0), prefs) == utc(2027, 11, 7, 13, 0)


def test_spring_forward_day_london() -> None:
    # 2027-03-28 01:00 GMT jumps to 02:00 BST: 08:00 BST is 07:00 UTC.
    prefs = CustomerPrefs(timezone="Europe/London")
    assert sms_send_after(utc(2027, 3, 27, 23, 0), prefs) == utc(2027, 3, 28, 7, 0)


def test_quiet_end_inside_the_spring_gap_lands_after_it() -> None:
    # Quiet hours end at 02:30, a time that does not exist on 2027-03-14 in New York.
    prefs = CustomerPrefs(timezone="America/New_York", quiet_end=time(2, 30))
    result = sms_send_after(utc(2027, 3, 14, 5, 0), prefs)  # 00:00 EST
    assert result == utc(2027, 3, 14, 7, 30)  # 03:30 EDT, just after the gap


def test_quiet_hours_within_one_day() -> None:
    prefs = CustomerPrefs(timezone="UTC", quiet_start=time(12, 0), quiet_end=time(14, 0))
    assert sms_send_after(utc(2027, 5, 1, 12, 30), prefs) == utc(2027, 5, 1, 14, 0)
    assert sms_send_after(utc(2027, 5, 1, 14, 0), prefs) == utc(2027, 5, 1, 14, 0)
    assert sms_send_after(utc(2027, 5, 1, 23, 0), prefs) == utc(2027, 5, 1, 23, 0)


def test_equal_start_and_end_means_no_quiet_hours() -> None:
    prefs = CustomerPrefs(quiet_start=time(0, 0), quiet_end=time(0, 0))
    assert sms_send_after(utc(2027, 5, 1, 3, 0), prefs) == utc(2027, 5, 1, 3, 0)


def test_answer_is_utc_whatever_the_input_zone() -> None:
    from zoneinfo import ZoneInfo

    now = datetime(2027, 1, 15, 12, 0, tzinfo=ZoneInfo("Europe/Madrid"))
    result = sms_send_after(now, CustomerPrefs())
    assert result.tzinfo is UTC and result == now


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sms_send_after(datetime(2027, 1, 1, 12, 0), CustomerPrefs())


def test_email_ignores_quiet_hours_calls_respect_them() -> None:
    prefs = CustomerPrefs(timezone="Europe/London")
    night = utc(2027, 1, 15, 23, 0)
    assert send_after(Channel.EMAIL, night, prefs) == night
    assert send_after(Channel.SMS, night, prefs) == utc(2027, 1, 16, 8, 0)
    assert send_after(Channel.PHONE, night, prefs) == utc(2027, 1, 16, 8, 0)
