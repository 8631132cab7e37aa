"""interactions: the CRM log

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import portal.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("inquiry_id", sa.Integer(), nullable=True),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("staff", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("order_status", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("order_eta", sa.Date(), nullable=True),
        sa.Column("occurred_at", portal.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", portal.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_interactions_inquiry_id", "interactions", ["inquiry_id"])
    op.create_index("ix_interactions_order_occurred", "interactions", ["order_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_interactions_order_occurred", table_name="interactions")
    op.drop_index("ix_interactions_inquiry_id", table_name="interactions")
    op.drop_table("interactions")
