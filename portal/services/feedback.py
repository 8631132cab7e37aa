"""Customer feedback after delivery: one per order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.status import EventKind, OrderStatus
from ..errors import Conflict, ValidationFailed
from ..models import Feedback, Order
from .timeline import UnitOfWork, append_event

MAX_COMMENT = 2000


def validate_feedback(rating_raw: str | None, comment_raw: str | None) -> tuple[int, str]:
    """Pure check of the form fields; raises ValidationFailed naming the field."""
    errors = []
    raw = (rating_raw or "").strip()
    rating = int(raw) if raw.isdigit() and len(raw) < 3 else 0
    if not 1 <= rating <= 5:
        errors.append({"loc": ["rating"], "msg": "choose a rating from 1 to 5"})
    comment = (comment_raw or "").strip()
    if len(comment) > MAX_COMMENT:
        errors.append(
            {"loc": ["comment"], "msg": f"keep the comment under {MAX_COMMENT} characters"}
        )
    if errors:
        raise ValidationFailed("the feedback form has errors", details=errors)
    return rating, comment


async def save_feedback(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    rating: int,
    comment: str,
    *,
    now: datetime,
) -> Feedback:
    if order.status != OrderStatus.DELIVERED.value:
        raise Conflict("feedback opens once the order is delivered")
    existing = await session.execute(
        select(col(Feedback.id)).where(col(Feedback.order_id) == order.id)
    )
    if existing.first() is not None:
        raise Conflict("feedback for this order has already been received")
    assert order.id is not None
    feedback = Feedback(order_id=order.id, rating=rating, comment=comment, created_at=now)
    session.add(feedback)
    append_event(
        session,
        uow,
        order,
        kind=EventKind.FEEDBACK,
        occurred_at=now,
        now=now,
        source="customer",
        message=f"Customer rated the delivery {rating}/5",
    )
    return feedback
