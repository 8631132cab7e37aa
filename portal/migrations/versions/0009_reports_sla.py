"""reports: each inquiry's first response in business minutes

Revision ID: 0009
Revises: 0008

The SLA clock (portal.domain.sla) knows the business calendar; SQL does not. The clock stores
the business minutes to the first reply here, so the reports' median and p90 are aggregates.
Inquiries answered before this revision keep NULL (not counted).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no table copy on SQLite: triggers on other tables stay untouched).
    op.add_column("inquiries", sa.Column("first_response_minutes", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inquiries") as batch:
        batch.drop_column("first_response_minutes")
