"""Tables the reports read beside the order records: review-link clicks, first carrier estimates."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from .models import _ts


class ReviewClick(SQLModel, table=True):
    """A customer followed the review link (PORTAL_REVIEW_URL) through the portal's redirect."""

    __tablename__ = "review_clicks"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    # Where the link was shown: email, sms or page (the tracking page); else unknown.
    via: str = Field(default="unknown", max_length=16)
    clicked_at: datetime = _ts(nullable=False, index=True)


class ShipmentEstimate(SQLModel, table=True):
    """A shipment's first estimated delivery date, kept when later estimates replace it.

    Written by a database trigger on `shipments` (migration 0005), so every write path (the
    ORM writer and the plain-statement checkpoint writer) keeps it without knowing of it.
    """

    __tablename__ = "shipment_estimates"

    shipment_id: int = Field(foreign_key="shipments.id", primary_key=True)
    first_estimated_delivery: date
