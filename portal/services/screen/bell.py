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
# The parts a doorbell may name (portal.web.screen.render.PARTS, and "extensions" for the
# sections other features add). A doorbell naming none means "any part may have changed".
NOTIFICATIONS, LINKS, INTERACTIONS, CALLS, CUSTOMER = (
    "notifications",
    "links",
    "interactions",
    "calls",
    "customer",
)


def screen_bell(order_number: str, last_seq: int, parts: Iterable[str] = ()) -> Published:
    """The doorbell message for an order whose screen changed without a new event; ``parts``
    names what changed (kind ``screen:links,interactions``), so open screens re-render and
    send only those."""
    named = sorted(set(parts))
    kind = f"{SCREEN_KIND}:{','.join(named)}" if named else SCREEN_KIND
    return Published(order_number, last_seq, kind, None)


def bell_parts(kind: str) -> frozenset[str] | None:
    """The parts a doorbell of this kind names; None for every part (an event, or a bell
    that names nothing)."""
    name, _, parts = kind.partition(":")
    if name != SCREEN_KIND or not parts:
        return None
    return frozenset(parts.split(","))


def ring_after_commit(uow: UnitOfWork, order: Order, *parts: str) -> None:
    """Announce ``order`` after the caller's transaction commits (with its other events);
    ``parts``: what changed on its screen (none named: anything may have)."""
    uow.published.append(screen_bell(order.order_number, order.last_seq, parts))


async def ring_orders(
    db: Database,
    broker: Broker,
    instance: str,
    order_ids: Iterable[int],
    parts: Iterable[str] = (),
) -> int:
    """Ring the screens of these orders now (for writers without a UnitOfWork, such as the
    dispatcher); returns how many were announced. A broker that is down loses only the
    refresh: screens catch up with the next change or a reconnect."""
    ids, parts = sorted(set(order_ids)), tuple(parts)
    if not ids:
        return 0
    stmt = sa.select(col(Order.order_number), col(Order.last_seq)).where(col(Order.id).in_(ids))
    async with db.read() as session:
        rows = (await session.execute(stmt)).all()
    sent = 0
    for number, seq in rows:
        try:
            await broker.publish(
                order_channel(instance, number), screen_bell(number, seq, parts).encode()
            )
            sent += 1
        except BrokerUnavailable:
            continue
    return sent
