"""Canonical shipment statuses and delay reasons every carrier adapter maps onto."""

from __future__ import annotations

from enum import StrEnum


class ShipmentStatus(StrEnum):
    """Where a parcel is, in the portal's own words (DESIGN.md, Status)."""

    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    ATTEMPT_FAILED = "attempt_failed"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class ReasonCode(StrEnum):
    """Why a shipment is late or stuck; goes with exceptions, failed attempts and delays."""

    WEATHER = "weather"
    CUSTOMS = "customs"
    ADDRESS = "address"
    CARRIER = "carrier"
    DAMAGED = "damaged"
    LOST = "lost"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"
    REFUSED = "refused"
    PAYMENT = "payment"
    HELD = "held"
    STOCK = "stock"
    OTHER = "other"
