"""How much of an order has shipped: the status rules' reads, and the item arithmetic of a new
shipment (which of the order's items it carries, checked against what is left to ship)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import BindParameter, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from carriers.status import ShipmentStatus

from ..errors import Conflict, ValidationFailed
from ..models import Order, OrderItem, Shipment, ShipmentItem
from ..schemas import ShipmentItemIn

# The status rules' reads, built once: they run on every checkpoint that moves a shipment.
_ORDER_ID: BindParameter[int] = bindparam("order_id")
# How many of an item its shipments carry, cancelled shipments aside (correlated per item).
_SHIPPED_OF_ITEM = func.coalesce(
    select(func.sum(col(ShipmentItem.quantity)))
    .join(Shipment, col(Shipment.id) == col(ShipmentItem.shipment_id))
    .where(
        col(ShipmentItem.order_item_id) == col(OrderItem.id),
        col(Shipment.status) != ShipmentStatus.CANCELLED.value,
    )
    .scalar_subquery(),
    0,
)
_ITEMS_WITH_SHIPPED = (
    select(OrderItem, _SHIPPED_OF_ITEM)
    .where(col(OrderItem.order_id) == _ORDER_ID)
    .order_by(col(OrderItem.position))
)
UNSHIPPED_ITEM = (
    select(col(OrderItem.id))
    .where(col(OrderItem.order_id) == _ORDER_ID, col(OrderItem.quantity) > _SHIPPED_OF_ITEM)
    .limit(1)
)
_SHIPMENT_MILESTONES = select(col(Shipment.milestone)).where(col(Shipment.order_id) == _ORDER_ID)


async def remaining_quantities(
    session: AsyncSession, order: Order
) -> dict[str, tuple[OrderItem, int]]:
    rows = await session.execute(_ITEMS_WITH_SHIPPED, {"order_id": order.id})
    return {item.sku: (item, item.quantity - int(shipped)) for item, shipped in rows.all()}


async def all_items_shipped(session: AsyncSession, order_id: int | None) -> bool:
    """Whether every item of the order is in a shipment that was not cancelled (one statement:
    it runs on every checkpoint that moves a shipment)."""
    unshipped = await session.execute(UNSHIPPED_ITEM, {"order_id": order_id})
    return unshipped.first() is None


async def shipment_milestones(session: AsyncSession, order: Order) -> list[ShipmentStatus]:
    rows = await session.execute(_SHIPMENT_MILESTONES, {"order_id": order.id})
    return [ShipmentStatus(m) for (m,) in rows.all()]


def shipment_lines(
    remaining: dict[str, tuple[OrderItem, int]], wanted: Sequence[ShipmentItemIn] | None
) -> list[tuple[OrderItem, int]]:
    """The (item, quantity) lines of a new shipment: ``wanted``, or every item not yet shipped
    when None. ``remaining``: by sku, each item and how many of it are left to ship."""
    if wanted is None:
        lines = [(item, left) for item, left in remaining.values() if left > 0]
        if not lines:
            raise Conflict("every item of this order has already shipped")
        return lines
    lines, errors = [], []
    for index, line in enumerate(wanted):
        found = remaining.get(line.sku)
        loc = ["items", index]
        if found is None:
            errors.append({"loc": [*loc, "sku"], "msg": f"sku {line.sku!r} is not on this order"})
        elif line.quantity > found[1]:
            errors.append(
                {
                    "loc": [*loc, "quantity"],
                    "msg": f"only {max(found[1], 0)} of {line.sku!r} left to ship",
                }
            )
        else:
            lines.append((found[0], line.quantity))
    if errors:
        raise ValidationFailed("the shipment's items do not match the order", details=errors)
    return lines
