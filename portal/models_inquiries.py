"""Inquiries' tables: the inquiry with its SLA clocks, its messages, SLA events, inbound mail."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .models import _text, _ts


class Inquiry(SQLModel, table=True):
    """A customer question. The three targets' states and due times are kept as the SLA clock
    last computed them; ``next_due_at`` (indexed) is the earliest running due time, which the
    breach watcher reads on start instead of scanning inquiries."""

    __tablename__ = "inquiries"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    customer_name: str | None = Field(default=None, max_length=200)
    customer_email: str | None = Field(default=None, max_length=320)
    customer_phone: str | None = Field(default=None, max_length=32)
    channel: str = Field(max_length=16)
    # How replies reach the customer: "email", or "email,sms" when they asked by SMS.
    reply_channels: str = Field(default="email", max_length=32)
    subject: str = Field(default="", max_length=500)
    state: str = Field(max_length=32, index=True)
    priority: str = Field(max_length=16)
    priority_reason: str | None = Field(default=None, max_length=200)
    assignee_id: int | None = Field(default=None, foreign_key="staff_users.id", index=True)
    policy: str = Field(default="default", max_length=64)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)
    resolved_at: datetime | None = _ts()
    first_response_due_at: datetime | None = _ts()
    first_response_state: str = Field(default="pending", max_length=16)
    next_response_due_at: datetime | None = _ts()
    next_response_state: str = Field(default="pending", max_length=16)
    next_response_started_at: datetime | None = _ts()
    resolution_due_at: datetime | None = _ts()
    resolution_state: str = Field(default="pending", max_length=16)
    next_due_at: datetime | None = _ts(index=True)
    breached: bool = Field(default=False, index=True)
    # Business minutes from opening to the first reply sent (met or late), for the reports'
    # median and p90: SQL cannot apply the business calendar. Kept by store_snapshot.
    first_response_minutes: float | None = None


class InquiryMessage(SQLModel, table=True):
    """One message of an inquiry, exact content kept. An outbound reply's ``sent_at`` is set
    when the dispatcher sends it (the first-response clock stops then, not when typed)."""

    __tablename__ = "inquiry_messages"

    id: int | None = Field(default=None, primary_key=True)
    inquiry_id: int = Field(foreign_key="inquiries.id", index=True)
    direction: str = Field(max_length=16)
    channel: str = Field(max_length=16)
    body: str = _text(nullable=False)
    # A staff user's email, "api:<key name>", or the customer's address / "customer".
    author: str = Field(max_length=320)
    staff_user_id: int | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = _ts(nullable=False)
    sent_at: datetime | None = _ts()
    inbound_mail_id: int | None = Field(default=None, foreign_key="inbound_mails.id")


class SlaEvent(SQLModel, table=True):
    """Every start, pause, resume, met and breach of a target, and every priority change.

    ``once_key`` is unique: a breach is recorded once even when several processes see it."""

    __tablename__ = "sla_events"

    id: int | None = Field(default=None, primary_key=True)
    inquiry_id: int = Field(foreign_key="inquiries.id", index=True)
    target: str | None = Field(default=None, max_length=32)
    kind: str = Field(max_length=16)
    at: datetime = _ts(nullable=False)
    recorded_at: datetime = _ts(nullable=False)
    reason: str | None = Field(default=None, max_length=500)
    value: str | None = Field(default=None, max_length=32)  # new priority or state
    due_at: datetime | None = _ts()
    once_key: str | None = Field(default=None, max_length=200, unique=True)
    # False for a breach not yet counted in any process's portal_sla_breaches_total: a process
    # without /metrics (`portal mail-in`, `portal dispatch`) leaves it so, and a server claims
    # it (portal.services.inquiry_watch.count_breaches). True for every other event.
    counted: bool = Field(default=True, index=True, sa_column_kwargs={"server_default": sa.true()})


class InboundMail(SQLModel, table=True):
    """Every mail `portal mail-in` accepted, raw bytes kept, with what became of it."""

    __tablename__ = "inbound_mails"

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = _ts(nullable=False)
    peer: str = Field(default="", max_length=200)
    mail_from: str = Field(default="", max_length=320)
    rcpt_to: str = Field(default="", max_length=1000)
    size: int = 0
    raw: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    # matched (tag or order number), unmatched (a new inquiry without order), dead_letter
    outcome: str = Field(max_length=16, index=True)
    matched_by: str | None = Field(default=None, max_length=16)
    inquiry_id: int | None = Field(default=None, foreign_key="inquiries.id")
    error: str | None = Field(default=None, max_length=1000)
