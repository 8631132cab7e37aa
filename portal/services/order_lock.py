"""Locking an order for a change, and reading in the same statement what the change will need.

A status change through the API used to lock the order, then ask for its items, shipments and
template mark for the notices, then re-read items, shipments, delays, feedback and inquiries for
the answer. Each statement costs more Python around it than the indexed lookup it runs, so the
lock's one statement brings the items (one row each), which parts the order has at all, and the
template mark; the parts an order does not have are then never asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..errors import NotFound
from ..models import Delay, Feedback, Order, OrderItem, Shipment, TemplateVersion, table_of
from ..models_inquiries import Inquiry
from .views import ItemView


@dataclass(frozen=True, slots=True)
class OrderParts:
    """What the lock read beside the order: its items, and whether it has any shipment, delay,
    feedback or inquiry (false: the view and the notices need not ask)."""

    items: tuple[ItemView, ...]
    has_shipments: bool
    has_delays: bool
    has_feedback: bool
    has_inquiries: bool
    template_mark: int


@dataclass(frozen=True, slots=True)
class LockedOrder:
    order: Order
    parts: OrderParts


ORDERS, ITEMS = table_of(Order), table_of(OrderItem)


def _has(model: type[Delay | Feedback | Inquiry | Shipment], name: str) -> sa.Label[bool]:
    table = table_of(model)
    return sa.exists().where(table.c.order_id == ORDERS.c.id).label(name)


# The newest template version's id: the notices' template cache is current while it holds.
TEMPLATE_MARK = (
    sa.select(sa.func.coalesce(sa.func.max(col(TemplateVersion.id)), 0))
    .scalar_subquery()
    .label("template_mark")
)
_LOCK_WITH_PARTS = (
    sa.select(
        Order,
        _has(Shipment, "has_shipments"),
        _has(Delay, "has_delays"),
        _has(Feedback, "has_feedback"),
        _has(Inquiry, "has_inquiries"),
        TEMPLATE_MARK,
        ITEMS.c.sku,
        ITEMS.c.name,
        ITEMS.c.quantity,
    )
    .outerjoin(ITEMS, ITEMS.c.order_id == ORDERS.c.id)
    .where(ORDERS.c.order_number == sa.bindparam("number"))
    .order_by(ITEMS.c.position)
    # Only the order's row: its items are read, not changed.
    .with_for_update(of=ORDERS)
)


async def lock_order_with_parts(session: AsyncSession, order_number: str) -> LockedOrder:
    """As portal.services.timeline.lock_order (the row locked on PostgreSQL), with its parts."""
    rows = (await session.execute(_LOCK_WITH_PARTS, {"number": order_number})).all()
    if not rows:
        raise NotFound(f"no order {order_number!r}")
    first = rows[0]
    parts = OrderParts(
        items=tuple(ItemView(r.sku, r.name, r.quantity) for r in rows if r.sku is not None),
        has_shipments=bool(first.has_shipments),
        has_delays=bool(first.has_delays),
        has_feedback=bool(first.has_feedback),
        has_inquiries=bool(first.has_inquiries),
        template_mark=int(first.template_mark),
    )
    return LockedOrder(first[0], parts)
