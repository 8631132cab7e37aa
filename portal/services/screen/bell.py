"""The order screen's doorbell: changes that add no timeline event still refresh open screens.

A staff screen shows more than the customer's page (notifications, links and their use, the
CRM log, call tasks). A change to those commits no OrderEvent, so it announces the order with
its *current* seq: the customer's hub takes that as a duplicate and drops it (no database
read, no frame: the customer hot path is untouched), while the staff hub, which counts its own
versions, re-renders the screen.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import col

from realtime.broker import Broker, BrokerUnavailable

from ...db import Database
from ...models import Order
from ..timeline import Published, UnitOfWork, order_channel

SCREEN_KIND = "screen"


def screen_bell(order_number: str, last_seq: int) -> Published:
    """The doorbell message for an order whose screen changed without a new event."""
    return Published(order_number, last_seq, SCREEN_KIND, None)


def ring_after_commit(uow: UnitOfWork, order: Order) -> None:
    """Announce ``order`` after the caller's transaction commits (with its other events)."""
    uow.published.append(screen_bell(order.order_number, order.last_seq))


async def ring_orders(db: Database, broker: Broker, instance: str, order_ids: Iterable[int]) -> int:
    """Ring the screens of these orders now (for writers without a UnitOfWork, such as the
    dispatcher); returns how many were announced. A broker that is down loses only the
    refresh: screens catch up with the next change or a reconnect."""
    ids = sorted(set(order_ids))
    if not ids:
        return 0
    stmt = sa.select(col(Order.order_number), col(Order.last_seq)).where(col(Order.id).in_(ids))
    async with db.read() as session:
        rows = (await session.execute(stmt)).all()
    sent = 0
    for number, seq in rows:
        try:
            await broker.publish(order_channel(instance, number), screen_bell(number, seq).encode())
            sent += 1
        except BrokerUnavailable:
            continue
    return sent
