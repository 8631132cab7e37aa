"""Staff accounts' tables: console sessions, failed sign-ins (lockout) and password-reset links."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .models import _ts


class StaffSession(SQLModel, table=True):
    """A signed-in console session. Only the hash of the cookie's random value is kept."""

    __tablename__ = "staff_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="staff_users.id", index=True)
    created_at: datetime = _ts(nullable=False)
    last_seen_at: datetime = _ts(nullable=False)
    ended_at: datetime | None = _ts()
    client: str = Field(default="", max_length=64)


class StaffLoginFailure(SQLModel, table=True):
    """One failed sign-in for an email (known or not): the lockout counts these per account."""

    __tablename__ = "staff_login_failures"
    __table_args__ = (sa.Index("ix_staff_login_failures_email_at", "email", "failed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)
    failed_at: datetime = _ts(nullable=False)
    client: str = Field(default="", max_length=64)


class PasswordReset(SQLModel, table=True):
    """A one-time password-reset link: token hashed at rest, single use, expiring."""

    __tablename__ = "staff_password_resets"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="staff_users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_by: str = Field(max_length=320)
    created_at: datetime = _ts(nullable=False)
    expires_at: datetime = _ts(nullable=False)
    used_at: datetime | None = _ts()
