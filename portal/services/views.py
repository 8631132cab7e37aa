"""Loading an order with everything shown about it, as plain values for API and pages."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from carriers.links import carrier_name, tracking_url

from ..domain.status import DelayState
from ..models import (
    Delay,
    Feedback,
    Order,
    OrderEvent,
    OrderItem,
    Shipment,
    ShipmentItem,
    table_of,
)
from .choice_state import CHOICES, STAFF_ACTED
from .customer_inquiries import INQUIRIES, CustomerInquiry, customer_inquiries


@dataclass(frozen=True, slots=True)
class ItemView:
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ShipmentView:
    id: int
    carrier: str
    carrier_name: str
    tracking_number: str
    tracking_url: str | None
    status: str
    milestone: str
    reason_code: str | None
    estimated_delivery: date | None
    shipped_at: datetime
    delivered_at: datetime | None
    items: tuple[ItemView, ...]


@dataclass(frozen=True, slots=True)
class EventView:
    seq: int
    kind: str
    status: str | None
    occurred_at: datetime
    recorded_at: datetime
    message: str
    location: str | None
    reason_code: str | None
    shipment_id: int | None
    applied: bool


@dataclass(frozen=True, slots=True)
class DelayView:
    id: int
    reason_code: str
    message: str
    previous_eta: date | None
    new_eta: date | None
    compensation: str | None
    alternatives: tuple[str, ...]
    customer_choice: str | None
    state: str
    opened_at: datetime
    resolved_at: datetime | None
    # Staff acted on the customer's choice: it can no longer be changed from the page.
    choice_handled: bool = False


@dataclass(frozen=True, slots=True)
class FeedbackView:
    rating: int
    comment: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OrderView:
    id: int
    order_number: str
    status: str
    customer_name: str
    customer_email: str
    customer_phone: str | None
    locale: str
    timezone: str
    promised_ship_by: date | None
    promised_deliver_by: date | None
    estimated_delivery: date | None
    created_at: datetime
    last_seq: int
    items: tuple[ItemView, ...]
    shipments: tuple[ShipmentView, ...]
    events: tuple[EventView, ...]  # oldest first by occurred_at, then seq
    delays: tuple[DelayView, ...]
    feedback: FeedbackView | None
    # The customer's questions and our answers (portal.services.customer_inquiries).
    inquiries: tuple[CustomerInquiry, ...] = ()

    @property
    def open_delay(self) -> DelayView | None:
        open_ = [d for d in self.delays if d.state == DelayState.OPEN]
        return open_[-1] if open_ else None


ORDERS = table_of(Order)
ITEMS, SHIPMENTS, SHIPMENT_ITEMS = table_of(OrderItem), table_of(Shipment), table_of(ShipmentItem)
EVENTS, DELAYS, FEEDBACK = table_of(OrderEvent), table_of(Delay), table_of(Feedback)


def _event_view(e: Any) -> EventView:
    return EventView(
        seq=e.seq,
        kind=e.kind,
        status=e.status,
        occurred_at=e.occurred_at,
        recorded_at=e.recorded_at,
        message=e.message,
        location=e.location,
        reason_code=e.reason_code,
        shipment_id=e.shipment_id,
        applied=e.applied,
    )


def timeline_order(events: list[EventView]) -> list[EventView]:
    return sorted(events, key=lambda e: (e.occurred_at, e.seq))


# Built once: building and cache-keying a statement cost more than running it (measured on
# SQLite: 480 us per query built per call through the async session, 160 us prebuilt and run
# together in one greenlet, 24 us in sqlite3 itself).
_ORDER_ID: sa.BindParameter[int] = sa.bindparam("order_id")


def _has(table: sa.Table, name: str) -> sa.Label[bool]:
    return sa.exists().where(table.c.order_id == ORDERS.c.id).label(name)


# Most orders have no delay, feedback or inquiry, and a query that finds nothing costs as much
# as one that finds something (the statement's overhead, not the index, is the cost): the
# order's row says which of the three are worth asking for. The live feed reads an order on
# every event, so that is three statements fewer per event for most orders.
_ORDER_BY_NUMBER = sa.select(
    ORDERS,
    _has(DELAYS, "has_delays"),
    _has(FEEDBACK, "has_feedback"),
    _has(INQUIRIES, "has_inquiries"),
).where(ORDERS.c.order_number == sa.bindparam("number"))
_ITEMS = (
    sa.select(ITEMS.c.sku, ITEMS.c.name, ITEMS.c.quantity)
    .where(ITEMS.c.order_id == _ORDER_ID)
    .order_by(ITEMS.c.position)
)
_SHIPMENTS = sa.select(SHIPMENTS).where(SHIPMENTS.c.order_id == _ORDER_ID).order_by(SHIPMENTS.c.id)
_SHIPMENT_ITEMS = (
    sa.select(SHIPMENT_ITEMS.c.shipment_id, ITEMS.c.sku, ITEMS.c.name, SHIPMENT_ITEMS.c.quantity)
    .join(ITEMS, ITEMS.c.id == SHIPMENT_ITEMS.c.order_item_id)
    .where(ITEMS.c.order_id == _ORDER_ID)
    .order_by(SHIPMENT_ITEMS.c.id)
)
_DELAYS = (
    sa.select(DELAYS, STAFF_ACTED.label("choice_handled"))
    .outerjoin(CHOICES, CHOICES.c.delay_id == DELAYS.c.id)
    .where(DELAYS.c.order_id == _ORDER_ID)
    .order_by(DELAYS.c.id)
)
_FEEDBACK = sa.select(FEEDBACK).where(FEEDBACK.c.order_id == _ORDER_ID)
_TIMELINE = sa.select(EVENTS).where(EVENTS.c.order_id == _ORDER_ID).order_by(EVENTS.c.seq)


Reader = Callable[..., Sequence[sa.Row[Any]]]


def _rows_on(connection: sa.Connection) -> Reader:
    """Plain rows: no ORM objects for values only shown."""
    return lambda stmt, **params: connection.execute(stmt, params).all()


def _reader(session: Session) -> Reader:
    """Plain rows through the session's connection; flushes first, so a write transaction's
    own changes are visible."""
    session.flush()
    return _rows_on(session.connection())


class KnownParts(Protocol):
    """What a writer read with the order's row (portal.services.order_lock.OrderParts)."""

    @property
    def items(self) -> tuple[ItemView, ...]: ...
    @property
    def has_shipments(self) -> bool: ...
    @property
    def has_delays(self) -> bool: ...
    @property
    def has_feedback(self) -> bool: ...
    @property
    def has_inquiries(self) -> bool: ...


async def load_order_view(
    session: AsyncSession, order: Order, parts: KnownParts | None = None
) -> OrderView:
    """Everything shown about ``order``, read in up to six plain queries: with ``parts`` read
    beside the order (and unchanged since), its items are not read again and the parts it does
    not have are not asked for."""
    return await session.run_sync(lambda sync: _order_view(_reader(sync), order, parts))


async def read_order_view_by_number(
    connection: AsyncConnection, order_number: str
) -> OrderView | None:
    """The view of the order numbered ``order_number``, or None for an unknown order: the live
    feed's read, on a plain connection (no session to set up for a read that changes nothing)
    and in one go."""
    return await connection.run_sync(
        lambda sync: _order_view_by_number(_rows_on(sync), order_number)
    )


def _order_view_by_number(rows: Reader, order_number: str) -> OrderView | None:
    found = rows(_ORDER_BY_NUMBER, number=order_number)
    return _order_view(rows, found[0]) if found else None


def _has_part(order: Order | sa.Row[Any] | KnownParts, name: str) -> bool:
    """Whether the order may have that part (see _ORDER_BY_NUMBER, KnownParts); an ORM order
    alone: yes."""
    return bool(getattr(order, name, True))


def placed_order_view(order: Order, parts: KnownParts, events: Sequence[OrderEvent]) -> OrderView:
    """The view of an order just placed, from what its writer wrote (``parts`` saying it has
    no shipment, delay, feedback or inquiry yet, and ``events`` all its events): no reads."""

    def nothing_to_read(stmt: Any, **params: Any) -> Sequence[sa.Row[Any]]:
        raise AssertionError("a new order's view has nothing to read")

    return _order_view(nothing_to_read, order, parts, events)


def _order_view(
    rows: Reader,
    order: Order | sa.Row[Any],
    parts: KnownParts | None = None,
    written: Sequence[OrderEvent] | None = None,
) -> OrderView:
    assert order.id is not None
    known = order if parts is None else parts
    items = rows(_ITEMS, order_id=order.id) if parts is None else parts.items
    shipments = _shipment_views(rows, order.id) if _has_part(known, "has_shipments") else ()
    delays = rows(_DELAYS, order_id=order.id) if _has_part(known, "has_delays") else []
    feedback = rows(_FEEDBACK, order_id=order.id) if _has_part(known, "has_feedback") else []
    read = rows(_TIMELINE, order_id=order.id) if written is None else written
    events = [_event_view(e) for e in read]
    return OrderView(
        id=order.id,
        order_number=order.order_number,
        status=order.status,
        customer_name=order.customer_name,
        customer_email=order.customer_email,
        customer_phone=order.customer_phone,
        locale=order.locale,
        timezone=order.timezone,
        promised_ship_by=order.promised_ship_by,
        promised_deliver_by=order.promised_deliver_by,
        estimated_delivery=order.estimated_delivery,
        created_at=order.created_at,
        last_seq=order.last_seq,
        items=tuple(ItemView(i.sku, i.name, i.quantity) for i in items),
        shipments=shipments,
        events=tuple(timeline_order(events)),
        delays=tuple(_delay_view(d) for d in delays),
        feedback=FeedbackView(feedback[0].rating, feedback[0].comment, feedback[0].created_at)
        if feedback
        else None,
        inquiries=customer_inquiries(rows, order.id) if _has_part(known, "has_inquiries") else (),
    )


def _shipment_views(rows: Reader, order_id: int) -> tuple[ShipmentView, ...]:
    shipments = rows(_SHIPMENTS, order_id=order_id)
    shipment_items: dict[int, list[ItemView]] = {}
    if shipments:
        for row in rows(_SHIPMENT_ITEMS, order_id=order_id):
            shipment_items.setdefault(row.shipment_id, []).append(
                ItemView(row.sku, row.name, row.quantity)
            )
    return tuple(
        ShipmentView(
            id=s.id,
            carrier=s.carrier,
            carrier_name=carrier_name(s.carrier),
            tracking_number=s.tracking_number,
            tracking_url=s.public_url or tracking_url(s.carrier, s.tracking_number),
            status=s.status,
            milestone=s.milestone,
            reason_code=s.reason_code,
            estimated_delivery=s.estimated_delivery,
            shipped_at=s.shipped_at,
            delivered_at=s.delivered_at,
            items=tuple(shipment_items.get(s.id, [])),
        )
        for s in shipments
    )


def _delay_view(d: sa.Row[Any]) -> DelayView:
    return DelayView(
        id=d.id,
        reason_code=d.reason_code,
        message=d.message,
        previous_eta=d.previous_eta,
        new_eta=d.new_eta,
        compensation=d.compensation,
        alternatives=tuple(json.loads(d.alternatives or "[]")),
        customer_choice=d.customer_choice,
        state=d.state,
        opened_at=d.opened_at,
        resolved_at=d.resolved_at,
        choice_handled=bool(d.choice_handled),
    )
