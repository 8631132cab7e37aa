"""sla_events.counted: breaches a server has counted in portal_sla_breaches_total

Revision ID: 0011
Revises: 0010

A breach recorded by `portal mail-in` or a separate `portal dispatch` was counted nowhere: those
processes serve no /metrics. Breaches are now inserted uncounted and claimed by a server
(portal.services.inquiry_watch.count_breaches). Existing events are marked counted, so an upgrade
does not count history again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sla_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("counted", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_sla_events_counted"), ["counted"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sla_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_events_counted"))
        batch_op.drop_column("counted")
