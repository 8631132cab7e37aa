"""Order and shipment status rules: forward-only, as explicit transition tables.

Pure: values in, decisions out. The service layer applies the decisions and records events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from carriers.status import ShipmentStatus

from ..errors import InvalidTransition


class OrderStatus(StrEnum):
    PLACED = "placed"
    PROCESSING = "processing"
    PACKED = "packed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    RETURNED = "returned"
    CANCELLED = "cancelled"


# The milestones a customer sees on the progress bar, in order.
MILESTONES: tuple[OrderStatus, ...] = (
    OrderStatus.PLACED,
    OrderStatus.PROCESSING,
    OrderStatus.PACKED,
    OrderStatus.SHIPPED,
    OrderStatus.IN_TRANSIT,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.DELIVERED,
)

ORDER_RANK: dict[OrderStatus, int] = {
    OrderStatus.PLACED: 0,
    OrderStatus.PROCESSING: 1,
    OrderStatus.PACKED: 2,
    OrderStatus.SHIPPED: 3,
    OrderStatus.IN_TRANSIT: 4,
    OrderStatus.OUT_FOR_DELIVERY: 5,
    # Beside out_for_delivery: the parcel waits at a pickup point instead of on a van.
    OrderStatus.AVAILABLE_FOR_PICKUP: 5,
    OrderStatus.DELIVERED: 6,
    OrderStatus.RETURNED: 7,
}

# Statuses the shop sets by hand; the later ones come from shipments.
SHOP_SETTABLE = frozenset({OrderStatus.PROCESSING, OrderStatus.PACKED, OrderStatus.CANCELLED})
CANCELLABLE = frozenset({OrderStatus.PLACED, OrderStatus.PROCESSING, OrderStatus.PACKED})
FINAL = frozenset({OrderStatus.DELIVERED, OrderStatus.RETURNED, OrderStatus.CANCELLED})
# Final statuses that end an order without delivering it.
STOPPED = FINAL - {OrderStatus.DELIVERED}

SHIPMENT_RANK: dict[ShipmentStatus, int] = {
    ShipmentStatus.PRE_TRANSIT: 0,
    ShipmentStatus.IN_TRANSIT: 1,
    ShipmentStatus.OUT_FOR_DELIVERY: 2,
    ShipmentStatus.AVAILABLE_FOR_PICKUP: 2,
    ShipmentStatus.DELIVERED: 3,
    ShipmentStatus.RETURNED_TO_SENDER: 4,
}
# Statuses that describe trouble, not progress: shown on the shipment, never a milestone.
TROUBLE = frozenset({ShipmentStatus.EXCEPTION, ShipmentStatus.ATTEMPT_FAILED})
SHIPMENT_FINAL = frozenset(
    {ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER, ShipmentStatus.CANCELLED}
)


class EventKind(StrEnum):
    """What a timeline entry records."""

    STATUS = "status"  # the order's status changed
    CHECKPOINT = "checkpoint"  # a carrier's tracking update
    DELAY = "delay"  # a delay was opened
    NOTE = "note"
    SHIPMENT = "shipment"  # the shop registered a shipment
    ETA = "eta"  # the estimated delivery moved
    FEEDBACK = "feedback"  # the customer rated the delivery


class DelayState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


def is_final(status: str | None) -> bool:
    """Is `status` (an order's or a shipment's) one after which nothing changes?"""
    return status in FINAL or status in SHIPMENT_FINAL


def is_trouble(status: str | None) -> bool:
    """Does `status` (a shipment's or a checkpoint's) describe trouble rather than progress?"""
    return status in TROUBLE


_ORDER_FOR_SHIPMENT: dict[ShipmentStatus, OrderStatus] = {
    ShipmentStatus.PRE_TRANSIT: OrderStatus.SHIPPED,
    ShipmentStatus.IN_TRANSIT: OrderStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY: OrderStatus.OUT_FOR_DELIVERY,
    ShipmentStatus.AVAILABLE_FOR_PICKUP: OrderStatus.AVAILABLE_FOR_PICKUP,
    ShipmentStatus.DELIVERED: OrderStatus.DELIVERED,
    ShipmentStatus.RETURNED_TO_SENDER: OrderStatus.RETURNED,
}


def check_shop_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """May the shop move an order from `current` to `target`?

    Returns False when nothing changes (same status), True for a move, and raises
    InvalidTransition with a precise message for a refused one.
    """
    if target not in SHOP_SETTABLE:
        raise InvalidTransition(
            f"status {target.value!r} cannot be set directly; it follows from shipments"
        )
    if target == current:
        return False
    if current in FINAL:
        raise InvalidTransition(f"order is {current.value}; its status can no longer change")
    if target == OrderStatus.CANCELLED:
        if current not in CANCELLABLE:
            raise InvalidTransition(
                f"order is {current.value}; it can be cancelled only before it ships"
            )
        return True
    if ORDER_RANK[target] < ORDER_RANK[current]:
        raise InvalidTransition(
            f"status never moves backward: expected one after {current.value}, got {target.value}"
        )
    return True


def check_can_ship(current: OrderStatus) -> None:
    """A shipment may be added to an order that is not cancelled, delivered or returned."""
    if current in FINAL:
        raise InvalidTransition(f"order is {current.value}; no shipment can be added")


@dataclass(frozen=True, slots=True)
class ShipmentState:
    status: ShipmentStatus
    milestone: ShipmentStatus
    status_occurred_at: datetime | None


@dataclass(frozen=True, slots=True)
class ShipmentDecision:
    """What one carrier checkpoint does to a shipment."""

    state: ShipmentState
    applied: bool  # False: kept in the timeline, moves nothing
    opens_delay: bool
    why: str


def apply_checkpoint(
    state: ShipmentState, status: ShipmentStatus, occurred_at: datetime
) -> ShipmentDecision:
    """Apply one carrier checkpoint to a shipment's state, forward only."""

    def keep(why: str) -> ShipmentDecision:
        return ShipmentDecision(state, applied=False, opens_delay=False, why=why)

    if state.status_occurred_at is not None and occurred_at < state.status_occurred_at:
        return keep("older than the checkpoint that set the current status")
    if state.milestone in SHIPMENT_FINAL:
        return keep(f"shipment is already {state.milestone.value}")
    if status == ShipmentStatus.UNKNOWN:
        return keep("carrier status not understood")
    if status in TROUBLE:
        new = ShipmentState(status, state.milestone, occurred_at)
        return ShipmentDecision(new, applied=True, opens_delay=True, why=status.value)
    if status == ShipmentStatus.CANCELLED:
        if state.milestone != ShipmentStatus.PRE_TRANSIT:
            return keep("a shipment already moving cannot be cancelled")
        new = ShipmentState(status, status, occurred_at)
        return ShipmentDecision(new, applied=True, opens_delay=False, why="cancelled")
    if SHIPMENT_RANK[status] < SHIPMENT_RANK[state.milestone]:
        return keep(f"{status.value} is behind {state.milestone.value}")
    new = ShipmentState(status, status, occurred_at)
    return ShipmentDecision(new, applied=True, opens_delay=False, why=status.value)


def derive_order_status(
    current: OrderStatus, milestones: Sequence[ShipmentStatus], all_items_shipped: bool
) -> OrderStatus:
    """The order's status given its shipments' milestones, never moving backward.

    The order is as far along as its least advanced shipment; delivered only when every
    shipment is delivered and no item is left to ship.
    """
    if current == OrderStatus.CANCELLED:
        return current
    live = [m for m in milestones if m != ShipmentStatus.CANCELLED]
    if not live:
        return current
    mapped = [_ORDER_FOR_SHIPMENT[m] for m in live]
    if all(s == OrderStatus.RETURNED for s in mapped):
        derived = OrderStatus.RETURNED
    else:
        pending = [s for s in mapped if s != OrderStatus.RETURNED]
        derived = min(pending, key=lambda s: ORDER_RANK[s])
        if derived == OrderStatus.DELIVERED and not all_items_shipped:
            derived = OrderStatus.SHIPPED
    if derived == current:
        return current
    if ORDER_RANK[derived] > ORDER_RANK[current]:
        return derived
    if ORDER_RANK[derived] == ORDER_RANK[current] and current not in FINAL:
        return derived  # out for delivery <-> available for pickup
    return current
