"""inquiries: inquiries with their SLA clocks, messages, SLA events, inbound mail

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import portal.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _s(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _ts() -> portal.models.UTCDateTime:
    return portal.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inquiries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("customer_name", _s(200), nullable=True),
        sa.Column("customer_email", _s(320), nullable=True),
        sa.Column("customer_phone", _s(32), nullable=True),
        sa.Column("channel", _s(16), nullable=False),
        sa.Column("reply_channels", _s(32), nullable=False),
        sa.Column("subject", _s(500), nullable=False),
        sa.Column("state", _s(32), nullable=False),
        sa.Column("priority", _s(16), nullable=False),
        sa.Column("priority_reason", _s(200), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("policy", _s(64), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.Column("resolved_at", _ts(), nullable=True),
        sa.Column("first_response_due_at", _ts(), nullable=True),
        sa.Column("first_response_state", _s(16), nullable=False),
        sa.Column("next_response_due_at", _ts(), nullable=True),
        sa.Column("next_response_state", _s(16), nullable=False),
        sa.Column("next_response_started_at", _ts(), nullable=True),
        sa.Column("resolution_due_at", _ts(), nullable=True),
        sa.Column("resolution_state", _s(16), nullable=False),
        sa.Column("next_due_at", _ts(), nullable=True),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["assignee_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("order_id", "state", "assignee_id", "next_due_at", "breached"):
        op.create_index(f"ix_inquiries_{column}", "inquiries", [column])
    op.create_table(
        "inbound_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", _ts(), nullable=False),
        sa.Column("peer", _s(200), nullable=False),
        sa.Column("mail_from", _s(320), nullable=False),
        sa.Column("rcpt_to", _s(1000), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("outcome", _s(16), nullable=False),
        sa.Column("matched_by", _s(16), nullable=True),
        sa.Column("inquiry_id", sa.Integer(), nullable=True),
        sa.Column("error", _s(1000), nullable=True),
        sa.ForeignKeyConstraint(["inquiry_id"], ["inquiries.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inbound_mails_outcome", "inbound_mails", ["outcome"])
    op.create_table(
        "inquiry_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("direction", _s(16), nullable=False),
        sa.Column("channel", _s(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", _s(320), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("sent_at", _ts(), nullable=True),
        sa.Column("inbound_mail_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["inquiry_id"], ["inquiries.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"]),
        sa.ForeignKeyConstraint(["inbound_mail_id"], ["inbound_mails.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inquiry_messages_inquiry_id", "inquiry_messages", ["inquiry_id"])
    op.create_table(
        "sla_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.Integer(), nullable=False),
        sa.Column("target", _s(32), nullable=True),
        sa.Column("kind", _s(16), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("recorded_at", _ts(), nullable=False),
        sa.Column("reason", _s(500), nullable=True),
        sa.Column("value", _s(32), nullable=True),
        sa.Column("due_at", _ts(), nullable=True),
        sa.Column("once_key", _s(200), nullable=True),
        sa.ForeignKeyConstraint(["inquiry_id"], ["inquiries.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("once_key"),
    )
    op.create_index("ix_sla_events_inquiry_id", "sla_events", ["inquiry_id"])


def downgrade() -> None:
    op.drop_table("sla_events")
    op.drop_table("inquiry_messages")
    op.drop_table("inbound_mails")
    op.drop_table("inquiries")
