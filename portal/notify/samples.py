"""A complete sample notice context: for template previews in the console and for tests."""

from __future__ import annotations

from datetime import date, timedelta

from portal.notify.templates import NoticeContext


def sample_context(today: date, *, base_url: str = "https://shop.example") -> NoticeContext:
    """A context with every field filled, with dates a few days after `today`."""
    return NoticeContext(
        shop_name="Example Shop",
        order_number="A1001",
        customer_name="Ada Lovelace",
        items=(("Blue mug", 2), ("Tea towel", 1)),
        status="out_for_delivery",
        promised_ship_by=today + timedelta(days=1),
        promised_deliver_by=today + timedelta(days=4),
        estimated_delivery=today + timedelta(days=3),
        portal_url=f"{base_url}/t/sample-token",
        unsubscribe_url=f"{base_url}/unsubscribe/sample-token",
        carrier="ups",
        carrier_name="UPS",
        tracking_number="1Z999AA10123456784",
        carrier_url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
        delay_reason_code="weather",
        delay_message="Snow closed the depot",
        new_estimated_delivery=today + timedelta(days=6),
        compensation="10% refund of shipping",
        alternatives=("pickup_point", "cancel"),
        feedback_url=f"{base_url}/t/sample-token/feedback",
        review_url="https://reviews.example/example-shop",
        support_email="help@shop.example",
        reply_text="Your parcel is at the depot and goes out tomorrow morning.",
    )
