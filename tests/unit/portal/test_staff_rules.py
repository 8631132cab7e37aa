"""Staff account rules: roles, idle expiry, lockout, safe redirects (pure, table-driven)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.domain.staff import (
    Role,
    locked_until,
    password_problem,
    retry_after_seconds,
    role_allows,
    safe_next,
    session_expired,
    session_needs_touch,
)

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def minutes(*values: float) -> list[datetime]:
    return [T0 + timedelta(minutes=v) for v in values]


@pytest.mark.parametrize(
    ("held", "required", "allowed"),
    [
        ("agent", Role.AGENT, True),
        ("agent", Role.ADMIN, False),
        ("admin", Role.AGENT, True),
        ("admin", Role.ADMIN, True),
        ("", Role.AGENT, False),
        ("superuser", Role.AGENT, False),
        ("Admin", Role.ADMIN, False),
    ],
)
def test_role_allows(held: str, required: Role, allowed: bool) -> None:
    assert role_allows(held, required) is allowed


@pytest.mark.parametrize(
    ("idle", "expired"),
    [
        (timedelta(0), False),
        (timedelta(hours=11, minutes=59, seconds=59), False),
        (timedelta(hours=12), True),
        (timedelta(days=3), True),
    ],
)
def test_session_idle_expiry(idle: timedelta, expired: bool) -> None:
    assert session_expired(T0, T0 + idle) is expired


@pytest.mark.parametrize(
    ("idle", "touch"),
    [(timedelta(seconds=5), False), (timedelta(seconds=60), True), (timedelta(hours=1), True)],
)
def test_session_touch_is_coarse(idle: timedelta, touch: bool) -> None:
    assert session_needs_touch(T0, T0 + idle) is touch


@pytest.mark.parametrize(
    ("failures", "now_minute", "until_minute"),
    [
        ([], 0, None),
        (minutes(0, 1, 2, 3), 4, None),  # four failures: not yet
        (minutes(0, 1, 2, 3, 4), 4, 19),  # the fifth locks for 15 minutes after it
        (minutes(4, 3, 2, 1, 0), 10, 19),  # order does not matter
        (minutes(0, 1, 2, 3, 4), 18.9, 19),
        (minutes(0, 1, 2, 3, 4), 19, None),  # lock over
        (minutes(0, 4, 8, 12, 16), 17, None),  # spread over 16 minutes: no run of 5 in 15
        (minutes(0, 4, 8, 12, 14.9), 15, 29.9),
        (minutes(0, 1, 2, 3, 4, 20), 21, None),  # one failure after the lock ended
        (minutes(0, 1, 2, 3, 4, 20, 21, 22, 23, 24), 25, 39),  # a second run locks again
    ],
)
def test_lockout(failures: list[datetime], now_minute: float, until_minute: float | None) -> None:
    now = T0 + timedelta(minutes=now_minute)
    expected = None if until_minute is None else T0 + timedelta(minutes=until_minute)
    assert locked_until(failures, now) == expected


@pytest.mark.parametrize(("seconds", "retry"), [(900, 900), (0.2, 1), (59.5, 60), (-3, 1)])
def test_retry_after(seconds: float, retry: int) -> None:
    assert retry_after_seconds(T0 + timedelta(seconds=seconds), T0) == retry


@pytest.mark.parametrize(
    ("target", "result"),
    [
        (None, "/support"),
        ("", "/support"),
        ("/support", "/support"),
        ("/support/orders?q=ada", "/support/orders?q=ada"),
        ("/support/orders/A1001", "/support/orders/A1001"),
        ("//evil.example/support", "/support"),
        ("https://evil.example/support", "/support"),
        ("/t/some-token", "/support"),
        ("/support\\@evil.example", "/support"),
        ("/support/\nSet-Cookie:x", "/support"),
        ("support", "/support"),
    ],
)
def test_safe_next(target: str | None, result: str) -> None:
    assert safe_next(target) == result


@pytest.mark.parametrize(
    ("password", "ok"), [("short", False), ("123456789", False), ("1234567890", True)]
)
def test_password_problem(password: str, ok: bool) -> None:
    assert (password_problem(password) is None) is ok
