"""staff: console sessions, failed sign-ins, password-reset links

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import portal.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, portal.models.UTCDateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        _str("token_hash", 64),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _ts("created_at", False),
        _ts("last_seen_at", False),
        _ts("ended_at", True),
        _str("client", 64),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        _str("email", 320),
        _ts("failed_at", False),
        _str("client", 64),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_staff_login_failures_email_at", "staff_login_failures", ["email", "failed_at"]
    )
    op.create_table(
        "staff_password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _str("token_hash", 64),
        _str("created_by", 320),
        _ts("created_at", False),
        _ts("expires_at", False),
        _ts("used_at", True),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_staff_password_resets_user_id", "staff_password_resets", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_password_resets_user_id", table_name="staff_password_resets")
    op.drop_table("staff_password_resets")
    op.drop_index("ix_staff_login_failures_email_at", table_name="staff_login_failures")
    op.drop_table("staff_login_failures")
    op.drop_index("ix_staff_sessions_user_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
