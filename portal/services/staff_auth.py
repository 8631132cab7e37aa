"""Staff sign-in and console sessions: the I/O around portal.domain.staff's rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.staff import (
    LOCKOUT_DURATION,
    LOCKOUT_WINDOW,
    locked_until,
    session_expired,
    session_needs_touch,
)
from ..models import StaffUser
from ..models_staff import StaffLoginFailure, StaffSession
from ..security import hash_password, hash_token, new_token, verify_password

# Verified when the email is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-for-timing")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The outcome of a good sign-in: the cookie's value (shown once) and the user."""

    token: str
    user: StaffUser


@dataclass(frozen=True, slots=True)
class Locked:
    until: datetime


@dataclass(frozen=True, slots=True)
class Refused:
    """Wrong email, wrong password or disabled account: deliberately indistinguishable."""


SignInResult = SignedIn | Locked | Refused


def normalise_login_email(email: str) -> str:
    return email.strip().lower()[:320]


async def _lock_state(session: AsyncSession, email: str, now: datetime) -> datetime | None:
    since = now - LOCKOUT_WINDOW - LOCKOUT_DURATION
    stmt = select(col(StaffLoginFailure.failed_at)).where(
        col(StaffLoginFailure.email) == email, col(StaffLoginFailure.failed_at) > since
    )
    return locked_until(list((await session.execute(stmt)).scalars()), now)


async def sign_in(
    session: AsyncSession, email: str, password: str, *, now: datetime, client: str
) -> SignInResult:
    """Check a sign-in in the caller's write transaction; a good one opens a fresh session.

    Failures are counted per account from any address, for unknown emails too, so the lockout
    does not tell which emails exist.
    """
    email = normalise_login_email(email)
    until = await _lock_state(session, email, now)
    if until is not None:
        return Locked(until)
    user = (
        await session.execute(select(StaffUser).where(col(StaffUser.email) == email))
    ).scalar_one_or_none()
    good = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not good or user.disabled_at is not None:
        # Failures older than a lockout can reach are forgotten, so the table stays small
        # however many addresses are tried.
        await session.execute(
            delete(StaffLoginFailure).where(
                col(StaffLoginFailure.failed_at) <= now - LOCKOUT_WINDOW - LOCKOUT_DURATION
            )
        )
        session.add(StaffLoginFailure(email=email, failed_at=now, client=client[:64]))
        return Refused()
    await session.execute(delete(StaffLoginFailure).where(col(StaffLoginFailure.email) == email))
    token = new_token()
    session.add(
        StaffSession(
            token_hash=hash_token(token),
            user_id=user.id or 0,
            created_at=now,
            last_seen_at=now,
            client=client[:64],
        )
    )
    return SignedIn(token, user)


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A live console session and its user, as a request sees them."""

    session_id: int
    token_hash: str
    user: StaffUser
    needs_touch: bool


async def find_session(session: AsyncSession, token: str, now: datetime) -> ActiveSession | None:
    """The live session a cookie value names, or None (unknown, ended, idle, user disabled)."""
    if not token or len(token) > 128:
        return None
    token_hash = hash_token(token)
    row = (
        await session.execute(
            select(StaffSession, StaffUser)
            .join(StaffUser, col(StaffUser.id) == col(StaffSession.user_id))
            .where(col(StaffSession.token_hash) == token_hash)
        )
    ).first()
    if row is None:
        return None
    staff_session, user = row
    if staff_session.ended_at is not None or user.disabled_at is not None:
        return None
    if session_expired(staff_session.last_seen_at, now):
        return None
    return ActiveSession(
        session_id=staff_session.id or 0,
        token_hash=token_hash,
        user=user,
        needs_touch=session_needs_touch(staff_session.last_seen_at, now),
    )


async def touch_session(session: AsyncSession, session_id: int, now: datetime) -> None:
    await session.execute(
        update(StaffSession).where(col(StaffSession.id) == session_id).values(last_seen_at=now)
    )


async def end_session(session: AsyncSession, session_id: int, now: datetime) -> None:
    await session.execute(
        update(StaffSession)
        .where(col(StaffSession.id) == session_id, col(StaffSession.ended_at).is_(None))
        .values(ended_at=now)
    )


async def end_sessions_of(session: AsyncSession, user_id: int, now: datetime) -> None:
    """End every open session of a user (disabled, or their password was reset)."""
    await session.execute(
        update(StaffSession)
        .where(col(StaffSession.user_id) == user_id, col(StaffSession.ended_at).is_(None))
        .values(ended_at=now)
    )
