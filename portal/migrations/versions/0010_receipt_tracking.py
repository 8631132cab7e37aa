"""receipt_tracking: the tracking numbers each webhook receipt is about, indexed

Revision ID: 0010
Revises: 0009

The archive found an order's receipts with LIKE over every receipt's numbers and dead letters'
bodies: a full scan per batch of orders. This table makes it an indexed lookup. Existing
receipts are backfilled in batches by the same rule the portal writes with
(portal.domain.receipt_numbers).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from portal.domain.receipt_numbers import receipt_numbers

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    links = op.create_table(
        "receipt_tracking",
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["receipt_id"], ["webhook_receipts.id"]),
        sa.PrimaryKeyConstraint("receipt_id", "tracking_number"),
    )
    with op.batch_alter_table("receipt_tracking", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_receipt_tracking_tracking_number"), ["tracking_number"], unique=False
        )
    _backfill(links)


def _backfill(links: sa.Table) -> None:
    receipts = sa.table(
        "webhook_receipts",
        sa.column("id", sa.Integer()),
        sa.column("outcome", sa.String()),
        sa.column("tracking_numbers", sa.String()),
        sa.column("body", sa.Text()),
    )
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(receipts).where(receipts.c.id > last).order_by(receipts.c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        values = [
            {"receipt_id": r.id, "tracking_number": number}
            for r in rows
            for number in receipt_numbers(r.outcome, r.tracking_numbers or "", r.body or "")
        ]
        if values:
            bind.execute(links.insert(), values)
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("receipt_tracking", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipt_tracking_tracking_number"))
    op.drop_table("receipt_tracking")
