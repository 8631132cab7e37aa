"""What one carrier checkpoint does to a shipment and its timeline: pure rules shared by the
two writers (the ORM path in portal.services.webhook_apply and portal.services.plain_checkpoint)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import bindparam, select

from carriers.base import TrackingUpdate
from carriers.status import ShipmentStatus

from ..domain.status import SHIPMENT_FINAL, EventKind, ShipmentDecision
from ..models import OrderEvent, table_of

# Statuses of a parcel on its way; one of these with a reason code reports a delay.
_PROGRESS = frozenset(
    {
        ShipmentStatus.PRE_TRANSIT,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.AVAILABLE_FOR_PICKUP,
    }
)

_EVENTS = table_of(OrderEvent)
# Which of the given fingerprints an order's timeline already holds (built once).
HELD_FINGERPRINTS = select(_EVENTS.c.fingerprint).where(
    _EVENTS.c.order_id == bindparam("order_id"),
    _EVENTS.c.fingerprint.in_(bindparam("fingerprints", expanding=True)),
)


def checkpoint_fingerprint(update: TrackingUpdate) -> str:
    raw = "|".join(
        [
            update.tracking_number,
            update.occurred_at.isoformat(),
            update.status.value,
            update.carrier_status,
            update.message,
        ]
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


T = TypeVar("T")


def pick_shipment(candidates: Sequence[T], carrier: str, carrier_of: Callable[[T], str]) -> T:
    """The shipment an update names among those with its tracking number (oldest first): the
    update's carrier's own, else the oldest."""
    same_carrier = [c for c in candidates if carrier_of(c) == carrier]
    return (same_carrier or candidates)[0]


def carries_news(
    status_occurred_at: datetime | None, milestone: str, update: TrackingUpdate
) -> bool:
    """Whether ``update`` is the newest news about its shipment (not older than what set its
    status, the shipment not final): it then carries the carrier's current view, its estimate
    and any delay it reports, whether or not its status moves anything."""
    return (
        status_occurred_at is None or update.occurred_at >= status_occurred_at
    ) and ShipmentStatus(milestone) not in SHIPMENT_FINAL


def reports_delay(update: TrackingUpdate, newest: bool) -> bool:
    """A progress update that gives a reason is the carrier reporting a delay (a revised
    estimate "due to extreme weather"); trouble statuses open one by the status rules."""
    return newest and update.reason_code is not None and update.status in _PROGRESS


class ShipmentFacts(Protocol):
    """What :func:`shipment_changes` reads of a shipment (an ORM object or a plain row)."""

    @property
    def public_url(self) -> str | None: ...

    @property
    def delivered_at(self) -> datetime | None: ...


def shipment_changes(
    shipment: ShipmentFacts, update: TrackingUpdate, decision: ShipmentDecision
) -> dict[str, Any]:
    """The shipment columns one checkpoint changes, given the status rules' decision."""
    changes: dict[str, Any] = {}
    if decision.applied:
        changes["status"] = decision.state.status.value
        changes["milestone"] = decision.state.milestone.value
        changes["status_occurred_at"] = decision.state.status_occurred_at
        changes["reason_code"] = update.reason_code.value if update.reason_code else None
        if decision.state.milestone == ShipmentStatus.DELIVERED and shipment.delivered_at is None:
            changes["delivered_at"] = update.occurred_at
    if update.public_url and not shipment.public_url:
        changes["public_url"] = update.public_url[:500]
    return changes


def checkpoint_event(
    update: TrackingUpdate, shipment_id: int, applied: bool, fingerprint: str, source: str
) -> dict[str, Any]:
    """The timeline fields of a carrier checkpoint (as portal.services.timeline takes them)."""
    return {
        "kind": EventKind.CHECKPOINT,
        "status": update.status.value,
        "occurred_at": update.occurred_at,
        "message": update.message or update.status.value.replace("_", " "),
        "location": update.location.label() if update.location else None,
        "reason_code": update.reason_code.value if update.reason_code else None,
        "source": source,
        "shipment_id": shipment_id,
        "applied": applied,
        "fingerprint": fingerprint,
        "data": {"carrier_status": update.carrier_status},
    }
