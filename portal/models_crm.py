"""The CRM log's table: every contact about an order, on any channel, with who and when."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .models import _ts


class Interaction(SQLModel, table=True):
    """One contact or staff action about an order (or about an unmatched inquiry).

    ``order_status`` and ``order_eta`` are the order's as they stood at that moment, so the log
    reads correctly long after the order moved on. ``inquiry_id`` names the inquiry it belongs
    to, if any (the inquiries table references it, not the other way round).
    """

    __tablename__ = "interactions"
    __table_args__ = (sa.Index("ix_interactions_order_occurred", "order_id", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    inquiry_id: int | None = Field(default=None, index=True)
    channel: str = Field(max_length=16)
    direction: str = Field(max_length=16)
    outcome: str = Field(max_length=32)
    action: str = Field(default="logged", max_length=32)
    summary: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    duration_s: int | None = None
    # A staff user's email, an API key's name ("api:<name>"), "customer" or "system".
    staff: str = Field(max_length=320)
    staff_user_id: int | None = Field(default=None, foreign_key="staff_users.id")
    order_status: str | None = Field(default=None, max_length=32)
    order_eta: date | None = None
    occurred_at: datetime = _ts(nullable=False)
    recorded_at: datetime = _ts(nullable=False)
