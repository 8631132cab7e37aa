"""The KPI definitions on small hand-made data, each expected figure written out."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.domain.kpis import (
    Period,
    eta_error_days,
    follows_notice,
    is_on_time,
    local_day,
    mean,
    nearest_rank,
    parse_period,
    percentile,
    share,
)
from portal.errors import ValidationFailed

TODAY = date(2027, 3, 10)


@pytest.mark.parametrize(
    ("percent", "count", "rank"),
    [
        (50, 1, 1),
        (95, 1, 1),
        (50, 4, 2),
        (95, 4, 4),
        (50, 5, 3),
        (90, 10, 9),
        (95, 20, 19),
        (95, 21, 20),
        (100, 7, 7),
        (1, 100, 1),
    ],
)
def test_nearest_rank(percent: int, count: int, rank: int) -> None:
    assert nearest_rank(percent, count) == rank


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        ([], 50, None),
        ([7.0], 95, 7.0),
        ([40.0, 10.0, 30.0, 20.0], 50, 20.0),  # sorted 10 20 30 40: the 2nd
        ([40.0, 10.0, 30.0, 20.0], 95, 40.0),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 90, 9),  # the 9th of 10, not interpolated
        ([3, 1, 2], 50, 2),
    ],
)
def test_percentile_is_a_value_that_occurred(
    values: list[float], percent: int, expected: float | None
) -> None:
    assert percentile(values, percent) == expected


def test_nearest_rank_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        nearest_rank(0, 3)
    with pytest.raises(ValueError):
        nearest_rank(50, 0)


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(2, 3, 0.6667), (1, 1, 1.0), (0, 4, 0.0), (0, 0, None), (1, 8, 0.125)],
)
def test_share(part: int, whole: int, expected: float | None) -> None:
    assert share(part, whole) == expected


@pytest.mark.parametrize(
    ("total", "count", "expected"),
    [(8.0, 2, 4.0), (5.0, 3, 1.67), (None, 0, None), (0.0, 0, None), (None, 2, None)],
)
def test_mean(total: float | None, count: int, expected: float | None) -> None:
    assert mean(total, count) == expected


@pytest.mark.parametrize(
    ("delivered", "promised", "on_time"),
    [
        (date(2027, 3, 4), date(2027, 3, 4), True),
        (date(2027, 3, 3), date(2027, 3, 4), True),
        (date(2027, 3, 5), date(2027, 3, 4), False),
    ],
)
def test_on_time_means_by_the_promised_date(delivered: date, promised: date, on_time: bool) -> None:
    assert is_on_time(delivered, promised) is on_time


@pytest.mark.parametrize(
    ("estimate", "delivered", "error"),
    [
        (date(2027, 3, 4), date(2027, 3, 4), 0),
        (date(2027, 3, 2), date(2027, 3, 4), 2),
        (date(2027, 3, 6), date(2027, 3, 4), 2),
    ],
)
def test_eta_error_counts_early_and_late(estimate: date, delivered: date, error: int) -> None:
    assert eta_error_days(estimate, delivered) == error


def test_an_inquiry_follows_a_notice_within_48_hours() -> None:
    sent = datetime(2027, 3, 1, 12, tzinfo=UTC)
    assert follows_notice(sent, sent)
    assert follows_notice(sent, sent + timedelta(hours=48))
    assert not follows_notice(sent, sent + timedelta(hours=48, seconds=1))
    assert not follows_notice(sent, sent - timedelta(seconds=1))  # asked before it came


def test_period_bounds_are_local_midnights() -> None:
    # London is on GMT in January and on BST (UTC+1) in July.
    winter = Period(date(2027, 1, 5), date(2027, 1, 6), "Europe/London").bounds()
    assert winter == (datetime(2027, 1, 5, tzinfo=UTC), datetime(2027, 1, 7, tzinfo=UTC))
    summer = Period(date(2027, 7, 5), date(2027, 7, 5), "Europe/London").bounds()
    assert summer == (datetime(2027, 7, 4, 23, tzinfo=UTC), datetime(2027, 7, 5, 23, tzinfo=UTC))
    assert Period(date(2027, 7, 5), date(2027, 7, 5)).days == 1


def test_local_day() -> None:
    late = datetime(2027, 3, 11, 3, tzinfo=UTC)
    assert local_day(late, "UTC") == date(2027, 3, 11)
    assert local_day(late, "America/New_York") == date(2027, 3, 10)


def test_parse_period_defaults_to_thirty_days() -> None:
    period = parse_period(None, None, today=TODAY)
    assert (period.start, period.end, period.days) == (date(2027, 2, 9), TODAY, 30)
    period = parse_period("2027-01-01", "2027-03-31", today=TODAY, timezone="Europe/Madrid")
    assert (period.start, period.end, period.timezone) == (
        date(2027, 1, 1),
        date(2027, 3, 31),
        "Europe/Madrid",
    )
    only_to = parse_period("", "2027-02-28", today=TODAY)
    assert only_to.start == date(2027, 1, 30)


@pytest.mark.parametrize(
    ("from_raw", "to_raw", "zone"),
    [
        ("2027-02-30", None, "UTC"),
        ("yesterday", None, "UTC"),
        ("2027-03-02", "2027-03-01", "UTC"),
        ("2020-01-01", "2027-01-01", "UTC"),
        (None, None, "Mars/Olympus"),
    ],
)
def test_parse_period_refuses(from_raw: str | None, to_raw: str | None, zone: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_period(from_raw, to_raw, today=TODAY, timezone=zone)
