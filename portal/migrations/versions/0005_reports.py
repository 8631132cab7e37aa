"""reports: review-link clicks and each shipment's first estimated delivery

Revision ID: 0005
Revises: 0004

The first estimate is kept by a trigger on `shipments`: the ORM writer and the plain-statement
checkpoint writer both change shipments, and neither needs to know that reports want history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER shipment_first_estimate_insert AFTER INSERT ON shipments
    WHEN NEW.estimated_delivery IS NOT NULL
    BEGIN
        INSERT OR IGNORE INTO shipment_estimates (shipment_id, first_estimated_delivery)
        VALUES (NEW.id, NEW.estimated_delivery);
    END
    """,
    """
    CREATE TRIGGER shipment_first_estimate_update AFTER UPDATE OF estimated_delivery ON shipments
    WHEN NEW.estimated_delivery IS NOT NULL
    BEGIN
        INSERT OR IGNORE INTO shipment_estimates (shipment_id, first_estimated_delivery)
        VALUES (NEW.id, NEW.estimated_delivery);
    END
    """,
)

_POSTGRES_TRIGGER = (
    """
    CREATE FUNCTION shipment_first_estimate() RETURNS trigger AS $$
    BEGIN
        IF NEW.estimated_delivery IS NOT NULL THEN
            INSERT INTO shipment_estimates (shipment_id, first_estimated_delivery)
            VALUES (NEW.id, NEW.estimated_delivery)
            ON CONFLICT (shipment_id) DO NOTHING;
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER shipment_first_estimate
    AFTER INSERT OR UPDATE OF estimated_delivery ON shipments
    FOR EACH ROW EXECUTE FUNCTION shipment_first_estimate()
    """,
)


def upgrade() -> None:
    op.create_table(
        "review_clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("clicked_at", portal.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_review_clicks_order_id", "review_clicks", ["order_id"])
    op.create_index("ix_review_clicks_clicked_at", "review_clicks", ["clicked_at"])
    op.create_table(
        "shipment_estimates",
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("first_estimated_delivery", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipments.id"]),
        sa.PrimaryKeyConstraint("shipment_id"),
    )
    # Shipments made before this revision: their current estimate is the earliest one known.
    op.execute(
        "INSERT INTO shipment_estimates (shipment_id, first_estimated_delivery) "
        "SELECT id, estimated_delivery FROM shipments WHERE estimated_delivery IS NOT NULL"
    )
    triggers = _POSTGRES_TRIGGER if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS shipment_first_estimate ON shipments")
        op.execute("DROP FUNCTION IF EXISTS shipment_first_estimate()")
    else:
        op.execute("DROP TRIGGER IF EXISTS shipment_first_estimate_insert")
        op.execute("DROP TRIGGER IF EXISTS shipment_first_estimate_update")
    op.drop_table("shipment_estimates")
    op.drop_index("ix_review_clicks_clicked_at", table_name="review_clicks")
    op.drop_index("ix_review_clicks_order_id", table_name="review_clicks")
    op.drop_table("review_clicks")
