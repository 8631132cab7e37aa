"""The review link (PORTAL_REVIEW_URL), counted: customers follow it through the portal.

Notices and the tracking page link to `/review/{order_number}/{signature}?via=...`; the
redirect records a ReviewClick and sends the customer on to the review site. The signature
ties the link to this portal and order (no share-link token is needed or shown).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..models import Order
from ..models_reports import ReviewClick
from ..security import constant_time_equal, sign
from ..settings import Settings


class ReviewVia(StrEnum):
    """Where a review link was shown."""

    NOTICE = "notice"
    PAGE = "page"
    UNKNOWN = "unknown"


def review_signature(secret_key: str, order_number: str) -> str:
    return sign(secret_key, "review", order_number)[:32]


def review_link(settings: Settings, order_number: str, via: ReviewVia) -> str | None:
    """The counted review link for an order, or None when no PORTAL_REVIEW_URL is set."""
    if not settings.review_url:
        return None
    signature = review_signature(settings.secret_key, order_number)
    return settings.url(f"/review/{order_number}/{signature}?via={via.value}")


async def record_click(
    session: AsyncSession,
    settings: Settings,
    order_number: str,
    signature: str,
    via: str | None,
    now: datetime,
) -> bool:
    """Record a click when the signature is right and the order exists; False otherwise."""
    expected = review_signature(settings.secret_key, order_number)
    if not constant_time_equal(signature, expected):
        return False
    order_id = (
        await session.execute(select(col(Order.id)).where(col(Order.order_number) == order_number))
    ).scalar_one_or_none()
    if order_id is None:
        return False
    known = {v.value for v in ReviewVia}
    where = ReviewVia(via) if via in known else ReviewVia.UNKNOWN
    session.add(ReviewClick(order_id=order_id, via=where.value, clicked_at=now))
    return True
