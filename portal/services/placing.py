"""Placing an order: its row, items, share link, first event and notices, in few statements.

A shop importing a day's orders places hundreds a minute, and each statement costs more Python
around it than the insert it runs: the number check brings the template mark, items and notices
go in one executemany each, the first seq is written with the order, and the answer is built
from what was written rather than read back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.status import EventKind, OrderStatus
from ..errors import Conflict
from ..models import Order, OrderEvent, OrderItem, table_of
from ..notify.wording import STATUS_MESSAGES
from ..schemas import OrderCreate
from . import outbox
from .links import PLACEMENT_LINK_DAYS, IssuedLink, issue_link
from .order_lock import TEMPLATE_MARK, OrderParts
from .timeline import Published, UnitOfWork, event_values
from .views import ItemView

_ORDER_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_order_number() -> str:
    return "ORD-" + "".join(secrets.choice(_ORDER_NUMBER_ALPHABET) for _ in range(8))


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """A new order as its writer wrote it: enough to answer without reading it back."""

    order: Order
    link: IssuedLink
    parts: OrderParts
    events: tuple[OrderEvent, ...]


_NUMBER_TAKEN = select(
    exists().where(col(Order.order_number) == bindparam("number")).label("taken"), TEMPLATE_MARK
)
_INSERT_ITEMS = insert(table_of(OrderItem))


async def create_order(
    session: AsyncSession, uow: UnitOfWork, data: OrderCreate, *, now: datetime, source: str
) -> tuple[Order, IssuedLink]:
    """Place an order with its items, its share link and its first timeline event."""
    placed = await place_order(session, uow, data, now=now, source=source)
    return placed.order, placed.link


async def place_order(
    session: AsyncSession, uow: UnitOfWork, data: OrderCreate, *, now: datetime, source: str
) -> PlacedOrder:
    """As create_order, returning what was written. Nine statements on PostgreSQL: the number
    and the template mark in one, the order, its items in one, link, event, notices, NOTIFY."""
    number = data.order_number or new_order_number()
    found = (await session.execute(_NUMBER_TAKEN, {"number": number})).one()
    if found.taken:
        raise Conflict(f"order {number!r} already exists")
    order = _new_order(data, number, now)
    session.add(order)
    await session.flush()
    assert order.id is not None
    lines = [
        {"order_id": order.id, "position": p, "sku": i.sku, "name": i.name, "quantity": i.quantity}
        for p, i in enumerate(data.items)
    ]
    await session.execute(_INSERT_ITEMS, lines)  # one executemany: no ORM objects needed
    link = issue_link(
        session, order, now=now, expires_in_days=PLACEMENT_LINK_DAYS, created_by="placement"
    )
    placed = OrderStatus.PLACED
    event = OrderEvent(
        **event_values(
            order.id,
            1,
            kind=EventKind.STATUS,
            status=placed.value,
            occurred_at=now,
            now=now,
            message=STATUS_MESSAGES[placed],
            source=source,
        )
    )
    session.add(event)
    uow.published.append(Published(order.order_number, event.seq, event.kind, event.status))
    items = tuple(ItemView(i.sku, i.name, i.quantity) for i in data.items)
    parts = OrderParts(items, False, False, False, False, int(found.template_mark))
    await outbox.enqueue_for_milestone(
        session,
        uow,
        order,
        milestone=placed,
        event_seq=event.seq,
        now=now,
        link=link,
        parts=parts,
        new_order=True,
    )
    return PlacedOrder(order, link, parts, (event,))


def _new_order(data: OrderCreate, number: str, now: datetime) -> Order:
    # Its first event's seq is taken here (seq 1, written with the order): counting it up
    # after the insert, as append_event does for a stored order, costs an UPDATE.
    return Order(
        order_number=number,
        status=OrderStatus.PLACED.value,
        customer_name=data.customer.name,
        customer_email=data.customer.email,
        customer_email_norm=data.customer.email.lower(),
        customer_phone=data.customer.phone,
        locale=data.customer.locale,
        timezone=data.customer.timezone,
        promised_ship_by=data.promised_ship_by,
        promised_deliver_by=data.promised_deliver_by,
        estimated_delivery=data.promised_deliver_by,
        last_seq=1,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
