"""notifications.order_id nullable: an answer to an unmatched inquiry is a notice about no order

Revision ID: 0012
Revises: 0011

An agent's answer to an inquiry that matched no order goes to the sender's address through the
same outbox, accuracy gate and dispatcher as every notice (kind unmatched_inquiry_reply). When
the inquiry is linked to its order later, its notices move to the order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("order_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # The portal never deletes records: refuse while answers to unmatched inquiries exist.
    orderless = op.get_bind().execute(
        sa.text("SELECT count(*) FROM notifications WHERE order_id IS NULL")
    )
    if orderless.scalar():
        raise RuntimeError("notifications about no order exist: link their inquiries first")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("order_id", existing_type=sa.Integer(), nullable=False)
