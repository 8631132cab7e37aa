"""The vocabulary of notifications: what is announced, which kind of notice, over which channel."""

from __future__ import annotations

from enum import StrEnum


class NotificationKind(StrEnum):
    """The kinds of customer notice the shop's procedure defines."""

    ORDER_CONFIRMATION = "order_confirmation"
    STATUS_UPDATE = "status_update"
    SHIPPING = "shipping"
    DELAY = "delay"
    DELIVERY = "delivery"
    INQUIRY_REPLY = "inquiry_reply"  # an agent's answer to a customer's question


class Channel(StrEnum):
    """How a notice reaches the customer."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"


class Milestone(StrEnum):
    """What happened to an order that may be announced.

    The order statuses of DESIGN.md plus `delayed`: a delay or a carrier exception was opened
    (it moves no status, but it is announced).
    """

    PLACED = "placed"
    PROCESSING = "processing"
    PACKED = "packed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    RETURNED = "returned"
    CANCELLED = "cancelled"
