"""Order changes from the shop's API and the support console, each in the caller's transaction."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from carriers.status import ShipmentStatus

from ..domain.status import (
    DelayState,
    EventKind,
    OrderStatus,
    check_can_ship,
    check_shop_transition,
    derive_order_status,
    is_final,
)
from ..errors import Conflict
from ..models import Delay, Order, OrderItem, Shipment, ShipmentItem
from ..notify.kinds import DELAYED
from ..notify.wording import STATUS_MESSAGES
from ..schemas import DelayCreate, ShipmentCreate, StatusChange
from . import outbox
from .order_lock import OrderParts
from .placing import create_order as create_order  # the service's entry points
from .placing import place_order as place_order
from .shipped_items import UNSHIPPED_ITEM as UNSHIPPED_ITEM  # plain_checkpoint's import
from .shipped_items import (
    all_items_shipped,
    remaining_quantities,
    shipment_lines,
    shipment_milestones,
)
from .timeline import UnitOfWork, append_event

_ORDER_ID: BindParameter[int] = bindparam("order_id")
_PENDING_ETAS = select(col(Shipment.estimated_delivery)).where(
    col(Shipment.order_id) == _ORDER_ID,
    col(Shipment.delivered_at).is_(None),
    col(Shipment.estimated_delivery).is_not(None),
)
_OPEN_DELAYS = select(Delay).where(
    col(Delay.order_id) == _ORDER_ID, col(Delay.state) == DelayState.OPEN
)


async def change_status(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    data: StatusChange,
    *,
    now: datetime,
    source: str,
    parts: OrderParts | None = None,
) -> bool:
    """A shop-set milestone (processing, packed, cancelled). Returns False when nothing changed.

    ``parts``: what the lock read with the order (portal.services.order_lock), spares reads."""
    current, target = OrderStatus(order.status), OrderStatus(data.status)
    if not check_shop_transition(current, target):
        return False
    order.status = target.value
    order.status_changed_at = now
    if target == OrderStatus.CANCELLED:
        order.cancelled_at = now
        if parts is None or parts.has_delays:
            await _resolve_open_delays(session, order, now)
    message = STATUS_MESSAGES[target] + (f": {data.note}" if data.note else "")
    event = append_event(
        session,
        uow,
        order,
        kind=EventKind.STATUS,
        status=target.value,
        occurred_at=now,
        now=now,
        message=message,
        source=source,
    )
    await outbox.enqueue_for_milestone(
        session, uow, order, milestone=target.value, event_seq=event.seq, now=now, parts=parts
    )
    return True


async def add_shipment(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    data: ShipmentCreate,
    *,
    now: datetime,
    source: str,
) -> Shipment:
    """Register a shipment (the order ships), for the items given or all not yet shipped."""
    check_can_ship(OrderStatus(order.status))
    await _check_unregistered(session, data)
    lines = shipment_lines(await remaining_quantities(session, order), data.items)
    shipment = await _insert_shipment(session, order, data, lines, now)
    milestones = await shipment_milestones(session, order)
    new_status = derive_order_status(
        OrderStatus(order.status), milestones, await all_items_shipped(session, order.id)
    )
    if new_status.value != order.status:
        order.status = new_status.value
        order.status_changed_at = now
    event = append_event(
        session,
        uow,
        order,
        kind=EventKind.SHIPMENT,
        status=OrderStatus.SHIPPED.value,
        occurred_at=now,
        now=now,
        message=f"Shipped with {data.carrier.upper()}, tracking number {data.tracking_number}",
        source=source,
        shipment_id=shipment.id,
    )
    if data.estimated_delivery is not None:
        await update_order_eta(session, uow, order, now=now, source=source)
    await outbox.enqueue_for_milestone(
        session,
        uow,
        order,
        milestone=OrderStatus.SHIPPED,
        event_seq=event.seq,
        now=now,
        shipment=shipment,
    )
    return shipment


async def _insert_shipment(
    session: AsyncSession,
    order: Order,
    data: ShipmentCreate,
    lines: list[tuple[OrderItem, int]],
    now: datetime,
) -> Shipment:
    assert order.id is not None
    shipment = Shipment(
        order_id=order.id,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        status=ShipmentStatus.PRE_TRANSIT.value,
        milestone=ShipmentStatus.PRE_TRANSIT.value,
        estimated_delivery=data.estimated_delivery,
        shipped_at=now,
        created_at=now,
    )
    session.add(shipment)
    await session.flush()
    assert shipment.id is not None
    for item, quantity in lines:
        session.add(
            ShipmentItem(shipment_id=shipment.id, order_item_id=item.id or 0, quantity=quantity)
        )
    await session.flush()
    return shipment


async def _check_unregistered(session: AsyncSession, data: ShipmentCreate) -> None:
    duplicate = await session.execute(
        select(col(Shipment.id)).where(
            col(Shipment.carrier) == data.carrier,
            col(Shipment.tracking_number) == data.tracking_number,
        )
    )
    if duplicate.first() is not None:
        raise Conflict(
            f"{data.carrier} tracking number {data.tracking_number} is already registered"
        )


async def update_order_eta(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    *,
    now: datetime,
    source: str,
    explicit: date | None = None,
) -> None:
    """Recompute the order's ETA (latest of its undelivered shipments' ETAs), keeping history."""
    if explicit is not None:
        new_eta: date | None = explicit
    else:
        rows = await session.execute(_PENDING_ETAS, {"order_id": order.id})
        etas = [eta for (eta,) in rows.all() if eta is not None]
        new_eta = max(etas) if etas else order.estimated_delivery
    if new_eta == order.estimated_delivery:
        return
    previous = order.estimated_delivery
    order.estimated_delivery = new_eta
    append_event(
        session,
        uow,
        order,
        kind=EventKind.ETA,
        occurred_at=now,
        now=now,
        source=source,
        message=f"New estimated delivery: {new_eta.strftime('%A %-d %B %Y')}"
        if new_eta
        else "Estimated delivery withdrawn",
        data={
            "previous": previous.isoformat() if previous else None,
            "new": new_eta.isoformat() if new_eta else None,
        },
    )


async def open_delay(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    data: DelayCreate,
    *,
    now: datetime,
    source: str,
    shipment_id: int | None = None,
) -> Delay:
    """Record a delay with its reason and offer, move the ETA, and tell the customer first."""
    if is_final(order.status):
        raise Conflict(f"order is {order.status}; a delay no longer applies")
    assert order.id is not None
    delay = Delay(
        order_id=order.id,
        shipment_id=shipment_id,
        reason_code=data.reason_code.value,
        message=data.message,
        previous_eta=order.estimated_delivery,
        new_eta=data.new_estimated_delivery,
        compensation=data.compensation,
        alternatives=json.dumps(data.alternatives),
        state=DelayState.OPEN,
        source=source,
        opened_at=now,
    )
    session.add(delay)
    await session.flush()
    event = append_event(
        session,
        uow,
        order,
        kind=EventKind.DELAY,
        occurred_at=now,
        now=now,
        message=data.message,
        reason_code=data.reason_code.value,
        source=source,
        shipment_id=shipment_id,
        data={"delay_id": delay.id},
    )
    if data.new_estimated_delivery is not None:
        await update_order_eta(
            session, uow, order, now=now, source=source, explicit=data.new_estimated_delivery
        )
    await outbox.enqueue_for_milestone(
        session, uow, order, milestone=DELAYED, event_seq=event.seq, now=now, delay=delay
    )
    return delay


async def _resolve_open_delays(session: AsyncSession, order: Order, now: datetime) -> None:
    rows = await session.execute(_OPEN_DELAYS, {"order_id": order.id})
    for delay in rows.scalars():
        delay.state = DelayState.RESOLVED
        delay.resolved_at = now
        session.add(delay)


def status_event(
    status: OrderStatus, occurred_at: datetime, source: str, shipment_id: int | None
) -> dict[str, Any]:
    """The timeline fields of the order's status changing (as portal.services.timeline takes
    them)."""
    return {
        "kind": EventKind.STATUS,
        "status": status.value,
        "occurred_at": occurred_at,
        "message": STATUS_MESSAGES[status],
        "source": source,
        "shipment_id": shipment_id,
    }


async def settle_order_status(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    *,
    now: datetime,
    occurred_at: datetime,
    source: str,
    shipment_id: int | None,
) -> str | None:
    """Derive the order's status from its shipments; record and announce a change."""
    milestones = await shipment_milestones(session, order)
    derived = derive_order_status(
        OrderStatus(order.status), milestones, await all_items_shipped(session, order.id)
    )
    if derived.value == order.status:
        return None
    order.status = derived.value
    order.status_changed_at = now
    if derived == OrderStatus.DELIVERED:
        order.delivered_at = occurred_at
    if is_final(derived):  # delivered or returned: no delay is still on its way
        await _resolve_open_delays(session, order, now)
    event = append_event(
        session, uow, order, now=now, **status_event(derived, occurred_at, source, shipment_id)
    )
    await outbox.enqueue_for_milestone(
        session, uow, order, milestone=derived.value, event_seq=event.seq, now=now
    )
    return derived.value
