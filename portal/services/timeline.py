"""Appending to an order's timeline, and the published form of an event."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..errors import NotFound
from ..models import Order, OrderEvent


def order_channel(instance: str, order_number: str) -> str:
    """Broker channel of an order; prefixed so several portals can share one Redis."""
    return f"{instance}:order:{order_number}"


@dataclass(frozen=True, slots=True)
class Published:
    """What goes on the broker after commit: a doorbell naming the order and the new seq."""

    order_number: str
    seq: int
    kind: str
    status: str | None

    def encode(self) -> bytes:
        return json.dumps(
            {
                "order": self.order_number,
                "seq": self.seq,
                "event": {"kind": self.kind, "status": self.status},
            },
            separators=(",", ":"),
        ).encode()

    @staticmethod
    def decode(data: bytes) -> Published:
        raw = json.loads(data)
        event = raw.get("event") or {}
        return Published(
            str(raw["order"]), int(raw["seq"]), str(event.get("kind", "")), event.get("status")
        )


@dataclass
class UnitOfWork:
    """Collects what a transaction did, so the caller can publish after commit.

    `notifier` (a portal.services.outbox.Notifier) lets changes write their notices.
    """

    notifier: Any = None
    published: list[Published] = field(default_factory=list)
    notifications: int = 0
    # Inquiries changed (their queue entries and clocks are announced after commit).
    inquiries: list[int] = field(default_factory=list)
    # SLA targets whose breach event this transaction inserted (counted once after commit).
    sla_breaches: list[str] = field(default_factory=list)


async def lock_order(session: AsyncSession, order_number: str) -> Order:
    """Load an order for change; on PostgreSQL the row is locked so seq numbers never clash."""
    stmt = select(Order).where(col(Order.order_number) == order_number).with_for_update()
    order = (await session.execute(stmt)).scalar_one_or_none()
    if order is None:
        raise NotFound(f"no order {order_number!r}")
    return order


async def lock_order_by_id(session: AsyncSession, order_id: int) -> Order:
    stmt = select(Order).where(col(Order.id) == order_id).with_for_update()
    return (await session.execute(stmt)).scalar_one()


def event_values(
    order_id: int,
    seq: int,
    *,
    kind: str,
    occurred_at: datetime,
    now: datetime,
    message: str,
    status: str | None = None,
    source: str = "system",
    shipment_id: int | None = None,
    location: str | None = None,
    reason_code: str | None = None,
    applied: bool = True,
    data: dict[str, Any] | None = None,
    fingerprint: str | None = None,
) -> dict[str, Any]:
    """The columns of one timeline event, whichever writer records it (ORM or plain INSERT)."""
    return {
        "order_id": order_id,
        "seq": seq,
        "kind": kind,
        "status": status,
        "shipment_id": shipment_id,
        "occurred_at": occurred_at,
        "recorded_at": now,
        "message": message[:1000],
        "location": location,
        "reason_code": reason_code,
        "source": source,
        "applied": applied,
        "fingerprint": fingerprint,
        "data": json.dumps(data, default=str) if data else None,
    }


def append_event(
    session: AsyncSession, uow: UnitOfWork, order: Order, *, now: datetime, **fields: Any
) -> OrderEvent:
    """Record one timeline event with the order's next seq, in the caller's transaction.

    ``fields``: the event's, as :func:`event_values` takes them.
    """
    assert order.id is not None
    order.last_seq += 1
    order.updated_at = now
    event = OrderEvent(**event_values(order.id, order.last_seq, now=now, **fields))
    session.add(order)
    session.add(event)
    uow.published.append(Published(order.order_number, event.seq, event.kind, event.status))
    return event
