"""The order screen's table: call tasks for support (phone delay notices, callbacks asked for)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .models import _ts


class CallTask(SQLModel, table=True):
    """A call support must make: from a delay notice by phone, or a callback a customer asked for.

    ``notification_id`` is unique, so a phone notice retried by the dispatcher still makes one
    task. An unreached customer's task stays open with a later ``due_at`` (``attempts`` counts
    the calls made); answering it closes it with an ``outcome`` recorded in the CRM log.
    """

    __tablename__ = "call_tasks"
    __table_args__ = (sa.Index("ix_call_tasks_state_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    notification_id: int | None = Field(default=None, foreign_key="notifications.id", unique=True)
    reason: str = Field(max_length=32)  # delay_notice | callback
    phone: str = Field(max_length=32)
    script: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    locale: str = Field(default="en", max_length=16)
    state: str = Field(default="open", max_length=16)  # open | done
    attempts: int = Field(default=0)
    outcome: str | None = Field(default=None, max_length=32)
    note: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))
    created_by: str = Field(default="system", max_length=320)
    completed_by: str | None = Field(default=None, max_length=320)
    due_at: datetime = _ts(nullable=False)
    created_at: datetime = _ts(nullable=False)
    completed_at: datetime | None = _ts()
