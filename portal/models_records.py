"""Tables of the records features: audit findings, run leases, customers' delay choices."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .models import _ts


class AuditFinding(SQLModel, table=True):
    """One problem the audit found, from the first run that saw it to the run that saw it fixed.

    ``key`` identifies the problem (order and wording); at most one unresolved row per key. A
    problem that comes back after it was resolved is a new row.
    """

    __tablename__ = "audit_findings"
    __table_args__ = (
        sa.Index(
            "ux_audit_findings_open_key",
            "key",
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        ),
        sa.Index("ix_audit_findings_resolved_last", "resolved_at", "last_seen_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    order_number: str = Field(max_length=64)
    problem: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    first_seen_at: datetime = _ts(nullable=False)
    last_seen_at: datetime = _ts(nullable=False)
    resolved_at: datetime | None = _ts()


class ScheduledRun(SQLModel, table=True):
    """A job that runs once per interval across every process: the lease says who runs it now."""

    __tablename__ = "scheduled_runs"

    name: str = Field(primary_key=True, max_length=64)
    holder: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = _ts()
    last_started_at: datetime | None = _ts()
    last_finished_at: datetime | None = _ts()
    runs: int = Field(default=0)
    last_result: str | None = Field(default=None, max_length=200)


class DelayChoice(SQLModel, table=True):
    """The customer's answer to a delay's offer (``delays.customer_choice`` holds the same value).

    ``handled_at`` is set when staff act on it (or on its inquiry); after that it cannot change.
    """

    __tablename__ = "delay_choices"

    id: int | None = Field(default=None, primary_key=True)
    delay_id: int = Field(foreign_key="delays.id", unique=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    alternative: str = Field(max_length=64)
    chosen_at: datetime = _ts(nullable=False)
    changes: int = Field(default=0)
    inquiry_id: int | None = Field(default=None, index=True)
    handled_at: datetime | None = _ts()
    handled_by: str | None = Field(default=None, max_length=320)
