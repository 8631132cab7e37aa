from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.web.presenters import local_time, mask_email, progress_steps
from portal.web.ratelimit import RateLimiter


@pytest.mark.parametrize(
    ("email", "masked"),
    [("ada@example.com", "a***@example.com"), ("x@y.z", "x***@y.z"), ("broken", "***")],
)
def test_mask_email(email: str, masked: str) -> None:
    assert mask_email(email) == masked


def test_local_time_uses_the_customer_zone() -> None:
    moment = datetime(2027, 7, 1, 12, 0, tzinfo=UTC)
    assert local_time(moment, "Europe/London").endswith("13:00")
    assert local_time(moment, "America/New_York").endswith("08:00")
    assert local_time(moment, "Not/AZone").endswith("12:00")


def test_local_time_reads_as_strftime_did() -> None:
    """The hand-made format is the one strftime gave: every weekday, month and a 1-digit day."""
    from datetime import timedelta

    from portal.timezones import zone

    start = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    for step in range(0, 400 * 24, 7):
        moment = start + timedelta(hours=step, minutes=step % 60)
        for name in ("Europe/London", "Asia/Kolkata", "America/Los_Angeles"):
            expected = moment.astimezone(zone(name)).strftime("%a %-d %b %Y, %H:%M")
            assert local_time(moment, name) == expected


def test_progress_steps() -> None:
    steps = {s.status: s.state for s in progress_steps("shipped")}
    assert steps["placed"] == "done" and steps["packed"] == "done"
    assert steps["shipped"] == "current"
    assert steps["delivered"] == "todo"
    delivered = progress_steps("delivered")
    assert all(s.state == "done" for s in delivered)
    pickup = [s.status for s in progress_steps("available_for_pickup")]
    assert "available_for_pickup" in pickup and "out_for_delivery" not in pickup


def test_rate_limiter_window() -> None:
    limiter = RateLimiter(limit=3, window=10)
    assert [limiter.allow("a", t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.allow("b", 3)
    assert limiter.allow("a", 10.5)
