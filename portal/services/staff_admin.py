"""Staff users for admins: create, disable, and one-time password-reset links."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.staff import RESET_LINK_TTL, Role, password_problem
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import StaffUser
from ..models_staff import PasswordReset, StaffLoginFailure
from ..schemas import normalise_email
from ..security import hash_password, hash_token, new_token
from .staff_auth import end_sessions_of


@dataclass(frozen=True, slots=True)
class IssuedReset:
    """A reset link's token: shown once to the admin, only its hash is kept."""

    token: str
    user: StaffUser
    expires_at: datetime

    def path(self) -> str:
        return f"/support/reset/{self.token}"


def _clean_email(raw: str) -> str:
    try:
        return normalise_email(raw.strip()).lower()
    except ValueError as exc:
        raise ValidationFailed(f"The email address is not valid: {exc}") from None


async def _user(session: AsyncSession, user_id: int) -> StaffUser:
    user = await session.get(StaffUser, user_id, with_for_update=True)
    if user is None:
        raise NotFound("there is no such staff user")
    return user


async def issue_reset(
    session: AsyncSession, user: StaffUser, *, by: str, now: datetime
) -> IssuedReset:
    """A new one-time link for ``user``; earlier unused links of theirs stop working."""
    await session.execute(
        update(PasswordReset)
        .where(col(PasswordReset.user_id) == user.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
    )
    token = new_token()
    expires = now + RESET_LINK_TTL
    session.add(
        PasswordReset(
            user_id=user.id or 0,
            token_hash=hash_token(token),
            created_by=by,
            created_at=now,
            expires_at=expires,
        )
    )
    return IssuedReset(token, user, expires)


async def create_user(
    session: AsyncSession, email: str, role: str, *, by: str, now: datetime
) -> IssuedReset:
    """A new staff user without a usable password, and the link to set one."""
    email = _clean_email(email)
    try:
        role = Role(role).value
    except ValueError:
        raise ValidationFailed("Choose the role agent or admin.") from None
    taken = await session.execute(select(col(StaffUser.id)).where(col(StaffUser.email) == email))
    if taken.first() is not None:
        raise Conflict(f"There is already a staff user {email}.")
    # Nobody knows this password: the user sets their own through the link.
    user = StaffUser(
        email=email,
        password_hash=hash_password(secrets.token_urlsafe(32)),
        role=role,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return await issue_reset(session, user, by=by, now=now)


async def reset_user(session: AsyncSession, user_id: int, *, by: str, now: datetime) -> IssuedReset:
    return await issue_reset(session, await _user(session, user_id), by=by, now=now)


async def disable_user(
    session: AsyncSession, user_id: int, *, by_user_id: int, now: datetime
) -> StaffUser:
    """Disable a user and end their sessions (their next request is refused)."""
    if user_id == by_user_id:
        raise Conflict("You cannot disable your own account.")
    user = await _user(session, user_id)
    if user.disabled_at is None:
        user.disabled_at = now
        session.add(user)
    await end_sessions_of(session, user_id, now)
    return user


async def find_reset(session: AsyncSession, token: str, now: datetime) -> PasswordReset | None:
    """The unused, unexpired reset a token names, or None."""
    if not token or len(token) > 128:
        return None
    reset = (
        await session.execute(
            select(PasswordReset).where(col(PasswordReset.token_hash) == hash_token(token))
        )
    ).scalar_one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        return None
    return reset


async def use_reset(
    session: AsyncSession, token: str, password: str, repeat: str, *, now: datetime
) -> StaffUser | None:
    """Set a new password through a reset link (once). None when the link is not valid.

    The user's open sessions end and their failed sign-ins are forgotten.
    """
    reset = await find_reset(session, token, now)
    if reset is None:
        return None
    problem = password_problem(password)
    if problem is None and password != repeat:
        problem = "The two passwords differ."
    if problem is not None:
        raise ValidationFailed(problem)
    user = await _user(session, reset.user_id)
    if user.disabled_at is not None:
        return None
    # Claimed with a conditional update, so two submissions at once cannot both use it.
    claimed = await session.execute(
        update(PasswordReset)
        .where(col(PasswordReset.id) == reset.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    user.password_hash = hash_password(password)
    session.add(user)
    await end_sessions_of(session, user.id or 0, now)
    await session.execute(
        delete(StaffLoginFailure).where(col(StaffLoginFailure.email) == user.email)
    )
    return user
