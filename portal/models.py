"""Database tables (SQLModel). Migrations in portal/migrations are generated from this metadata."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def _text(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.Text(), nullable=nullable))


class Order(SQLModel, table=True):
    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True)
    order_number: str = Field(max_length=64, unique=True, index=True)
    status: str = Field(max_length=32, index=True)
    customer_name: str = Field(max_length=200)
    customer_email: str = Field(max_length=320)
    customer_email_norm: str = Field(max_length=320, index=True)
    customer_phone: str | None = Field(default=None, max_length=32)
    locale: str = Field(default="en", max_length=16)
    timezone: str = Field(default="UTC", max_length=64)
    opt_out_channels: str = Field(default="", max_length=64)
    promised_ship_by: date | None = None
    promised_deliver_by: date | None = None
    estimated_delivery: date | None = None
    last_seq: int = Field(default=0)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)
    status_changed_at: datetime | None = _ts()
    delivered_at: datetime | None = _ts()
    cancelled_at: datetime | None = _ts()


class OrderItem(SQLModel, table=True):
    __tablename__ = "order_items"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    position: int
    sku: str = Field(max_length=64)
    name: str = Field(max_length=200)
    quantity: int


class Shipment(SQLModel, table=True):
    __tablename__ = "shipments"
    __table_args__ = (sa.UniqueConstraint("carrier", "tracking_number"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    carrier: str = Field(max_length=32)
    tracking_number: str = Field(max_length=64, index=True)
    status: str = Field(max_length=32)
    # The furthest milestone reached; `status` may show an exception while this stays put.
    milestone: str = Field(max_length=32)
    status_occurred_at: datetime | None = _ts()
    reason_code: str | None = Field(default=None, max_length=32)
    estimated_delivery: date | None = None
    public_url: str | None = Field(default=None, max_length=500)
    shipped_at: datetime = _ts(nullable=False)
    delivered_at: datetime | None = _ts()
    created_at: datetime = _ts(nullable=False)


class ShipmentItem(SQLModel, table=True):
    __tablename__ = "shipment_items"

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipments.id", index=True)
    order_item_id: int = Field(foreign_key="order_items.id", index=True)
    quantity: int


class OrderEvent(SQLModel, table=True):
    """The append-only timeline of an order, numbered by a per-order seq."""

    __tablename__ = "order_events"
    __table_args__ = (sa.UniqueConstraint("order_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    seq: int
    kind: str = Field(max_length=32)
    status: str | None = Field(default=None, max_length=32)
    shipment_id: int | None = Field(default=None, foreign_key="shipments.id")
    occurred_at: datetime = _ts(nullable=False)
    recorded_at: datetime = _ts(nullable=False)
    message: str = Field(default="", max_length=1000)
    location: str | None = Field(default=None, max_length=200)
    reason_code: str | None = Field(default=None, max_length=32)
    source: str = Field(default="system", max_length=64)
    # Whether this event moved the order or shipment (an out-of-order one is kept, moves nothing).
    applied: bool = Field(default=True)
    # Identifies a carrier checkpoint, so a payload repeating history adds nothing twice.
    fingerprint: str | None = Field(default=None, max_length=64, index=True)
    data: str | None = _text()


class ShareLink(SQLModel, table=True):
    __tablename__ = "share_links"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    purpose: str = Field(default="customer", max_length=32)
    created_by: str = Field(default="system", max_length=64)
    created_at: datetime = _ts(nullable=False)
    expires_at: datetime | None = _ts()
    revoked_at: datetime | None = _ts()
    use_count: int = Field(default=0)
    last_used_at: datetime | None = _ts()


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    scopes: str = Field(default="orders:read orders:write", max_length=200)
    created_at: datetime = _ts(nullable=False)
    revoked_at: datetime | None = _ts()
    last_used_at: datetime | None = _ts()


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=16)
    created_at: datetime = _ts(nullable=False)
    disabled_at: datetime | None = _ts()


class Delay(SQLModel, table=True):
    __tablename__ = "delays"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    shipment_id: int | None = Field(default=None, foreign_key="shipments.id")
    reason_code: str = Field(max_length=32)
    message: str = Field(max_length=1000)
    previous_eta: date | None = None
    new_eta: date | None = None
    compensation: str | None = Field(default=None, max_length=500)
    alternatives: str = Field(default="[]", max_length=1000)
    customer_choice: str | None = Field(default=None, max_length=64)
    state: str = Field(default="open", max_length=16)
    source: str = Field(default="api", max_length=64)
    opened_at: datetime = _ts(nullable=False)
    resolved_at: datetime | None = _ts()


class Feedback(SQLModel, table=True):
    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", unique=True)
    rating: int
    comment: str = Field(default="", max_length=2000)
    created_at: datetime = _ts(nullable=False)


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a POST carrying an Idempotency-Key, replayed on a retry."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("api_key_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    api_key_id: int = Field(foreign_key="api_keys.id")
    key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: str = _text(nullable=False)
    created_at: datetime = _ts(nullable=False)


class WebhookReceipt(SQLModel, table=True):
    """Every authenticated carrier request, raw body kept, with its outcome."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (sa.UniqueConstraint("carrier", "dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    carrier: str = Field(max_length=32, index=True)
    dedupe_key: str = Field(max_length=200)
    outcome: str = Field(max_length=16, index=True)
    body: str = _text(nullable=False)
    # The exact bytes, base64, when the body is not UTF-8 (``body`` then holds a readable copy).
    body_base64: str | None = _text()
    headers: str = _text(nullable=False)
    error: str | None = Field(default=None, max_length=1000)
    tracking_numbers: str = Field(default="", max_length=1000)
    received_at: datetime = _ts(nullable=False)
    applied_at: datetime | None = _ts()


class ReceiptTracking(SQLModel, table=True):
    """The tracking numbers a webhook receipt is about, one row each (an indexed lookup).

    A parsed receipt's numbers; a dead letter's are the words of its raw body shaped like a
    tracking number. A dead letter with too many such words has the one row ``""`` instead
    (see portal.services.receipt_numbers).
    """

    __tablename__ = "receipt_tracking"

    receipt_id: int = Field(foreign_key="webhook_receipts.id", primary_key=True)
    tracking_number: str = Field(max_length=64, primary_key=True, index=True)


class Notification(SQLModel, table=True):
    """The outbox and the permanent log in one table."""

    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    # None for a notice about no order (an answer to an unmatched inquiry).
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    milestone: str = Field(max_length=32)
    event_seq: int
    shipment_id: int | None = Field(default=None, foreign_key="shipments.id")
    delay_id: int | None = Field(default=None, foreign_key="delays.id")
    # The share link the notice carries; the accuracy gate checks it still resolves.
    portal_link_id: int | None = Field(default=None, foreign_key="share_links.id")
    # What the notice states (portal URL, tracking number, carrier link, ETA), as JSON.
    facts: str = Field(default="{}", sa_column=sa.Column(sa.Text(), nullable=False))
    recipient: str = Field(max_length=320)
    locale: str = Field(default="en", max_length=16)
    state: str = Field(max_length=16, index=True)
    template_version: int | None = None
    subject: str = Field(default="", max_length=500)
    body: str = _text(nullable=False)
    html: str | None = _text()
    attempts: int = Field(default=0)
    errors: str = Field(default="[]", sa_column=sa.Column(sa.Text(), nullable=False))
    blocked_reason: str | None = Field(default=None, max_length=500)
    provider_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = _ts(nullable=False)
    due_at: datetime = _ts(nullable=False, index=True)
    lease_until: datetime | None = _ts()
    claimed_by: str | None = Field(default=None, max_length=100)
    sent_at: datetime | None = _ts()
    # A resend made from the order screen names the notification it repeats.
    resend_of: int | None = None


class TemplateVersion(SQLModel, table=True):
    """An edited notification template; the shipped defaults are version 1."""

    __tablename__ = "template_versions"
    __table_args__ = (sa.UniqueConstraint("kind", "channel", "locale", "part", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    locale: str = Field(max_length=16)
    part: str = Field(max_length=16)
    version: int
    source: str = _text(nullable=False)
    created_by: str = Field(max_length=320)
    created_at: datetime = _ts(nullable=False)


def table_of(model: type[SQLModel]) -> sa.Table:
    """A model's Table, for plain (Core) statements on hot paths."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table
