"""Staff accounts' rules: roles, session expiry, sign-in lockout, safe redirects. Pure.

Time is passed in; nothing here reads a clock or a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

SESSION_IDLE = timedelta(hours=12)
# A session's last-seen time is written at most this often (a write per page would serialise
# every console request on SQLite); idle expiry is therefore exact to within this much.
SESSION_TOUCH = timedelta(seconds=60)
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCKOUT_DURATION = timedelta(minutes=15)
RESET_LINK_TTL = timedelta(hours=24)
MIN_PASSWORD_LENGTH = 10


class Role(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


_RANK = {Role.AGENT: 1, Role.ADMIN: 2}


def role_allows(held: str, required: Role) -> bool:
    """Whether a user holding role ``held`` may open a page that needs ``required``.

    An unknown role allows nothing (a row edited by hand must not open the console).
    """
    try:
        return _RANK[Role(held)] >= _RANK[required]
    except ValueError:
        return False


def session_expired(last_seen_at: datetime, now: datetime) -> bool:
    return now - last_seen_at >= SESSION_IDLE


def session_needs_touch(last_seen_at: datetime, now: datetime) -> bool:
    return now - last_seen_at >= SESSION_TOUCH


def locked_until(failures: Sequence[datetime], now: datetime) -> datetime | None:
    """When an account's lockout ends, or None when it may try to sign in now.

    ``failures`` are the account's failed sign-ins (any order, any address). The account is
    locked once LOCKOUT_FAILURES of them fall within LOCKOUT_WINDOW of each other, for
    LOCKOUT_DURATION after the one that completed the run.
    """
    recent = sorted(f for f in failures if now - f < LOCKOUT_WINDOW + LOCKOUT_DURATION)
    for index in range(LOCKOUT_FAILURES - 1, len(recent)):
        if recent[index] - recent[index - LOCKOUT_FAILURES + 1] < LOCKOUT_WINDOW:
            until = recent[index] + LOCKOUT_DURATION
            if until > now:
                return until
    return None


def retry_after_seconds(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() + 0.999))


def safe_next(target: str | None, default: str = "/support") -> str:
    """A local console path to go to after sign-in; anything else gives ``default``.

    Refuses absolute URLs, scheme-relative ``//host`` and backslash tricks browsers treat as
    ``//``, so the login form cannot be used as an open redirect.
    """
    if not target or not target.startswith("/support") or "\\" in target:
        return default
    if target.startswith("//") or any(ord(c) < 32 for c in target):
        return default
    return target


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must be at least {MIN_PASSWORD_LENGTH} characters."
    return None
