"""The CRM log: recording every contact about an order, and reading it back.

Every writer (the console's actions, the shop's CRM over the API, inquiry messages, mail-in, a
customer's delay choice) records through :func:`record_interaction` in its own transaction, so an
action and its log entry commit or fail together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.interactions import (
    Direction,
    InteractionAction,
    InteractionChannel,
    InteractionOutcome,
)
from ..models import Order
from ..models_crm import Interaction


@dataclass(frozen=True, slots=True)
class InteractionEntry:
    """What happened, as the caller knows it; the order's state at that moment is added here."""

    channel: InteractionChannel
    direction: Direction
    outcome: InteractionOutcome
    summary: str
    staff: str
    action: InteractionAction = InteractionAction.LOGGED
    duration_s: int | None = None
    staff_user_id: int | None = None
    inquiry_id: int | None = None
    occurred_at: datetime | None = None


def record_interaction(
    session: AsyncSession, order: Order | None, entry: InteractionEntry, *, now: datetime
) -> Interaction:
    """Add one entry to the CRM log in the caller's transaction (flushed with it)."""
    row = Interaction(
        order_id=order.id if order is not None else None,
        inquiry_id=entry.inquiry_id,
        channel=entry.channel.value,
        direction=entry.direction.value,
        outcome=entry.outcome.value,
        action=entry.action.value,
        summary=entry.summary,
        duration_s=entry.duration_s,
        staff=entry.staff,
        staff_user_id=entry.staff_user_id,
        order_status=order.status if order is not None else None,
        order_eta=order.estimated_delivery if order is not None else None,
        occurred_at=entry.occurred_at or now,
        recorded_at=now,
    )
    session.add(row)
    return row


async def interactions_of(session: AsyncSession, order_id: int) -> list[Interaction]:
    """An order's CRM log, newest first."""
    stmt = (
        select(Interaction)
        .where(col(Interaction.order_id) == order_id)
        .order_by(col(Interaction.occurred_at).desc(), col(Interaction.id).desc())
    )
    return list((await session.execute(stmt)).scalars())


def interaction_json(row: Interaction, order_number: str | None) -> dict[str, Any]:
    """The API's (and the archive's) form of one entry."""
    return {
        "id": row.id,
        "order_number": order_number,
        "channel": row.channel,
        "direction": row.direction,
        "outcome": row.outcome,
        "action": row.action,
        "summary": row.summary,
        "duration_s": row.duration_s,
        "staff": row.staff,
        "inquiry_id": row.inquiry_id,
        "order_status": row.order_status,
        "order_eta": row.order_eta.isoformat() if row.order_eta else None,
        "occurred_at": row.occurred_at.isoformat(),
        "recorded_at": row.recorded_at.isoformat(),
    }
