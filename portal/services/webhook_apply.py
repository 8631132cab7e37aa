"""Applying matched carrier updates: checkpoints, ETA, carrier delays, then the order status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from carriers.base import TrackingUpdate
from carriers.status import ReasonCode, ShipmentStatus

from ..domain.status import DelayState, ShipmentState, apply_checkpoint, is_final
from ..models import Delay, Order, Shipment
from ..schemas import DelayCreate
from . import orders as order_service
from .checkpoints import (
    HELD_FINGERPRINTS,
    carries_news,
    checkpoint_event,
    checkpoint_fingerprint,
    reports_delay,
    shipment_changes,
)
from .timeline import UnitOfWork, append_event
from .webhook_matching import Matched, match_updates


async def apply_matched(
    session: AsyncSession, uow: UnitOfWork, groups: Matched, *, now: datetime, source: str
) -> int:
    """Apply grouped updates shipment by shipment; returns the checkpoints recorded."""
    recorded = 0
    for shipment, order, shipment_updates in groups.values():
        recorded += await _apply_to_shipment(
            session, uow, shipment, order, shipment_updates, now=now, source=source
        )
    return recorded


async def apply_updates(
    session: AsyncSession,
    uow: UnitOfWork,
    updates: tuple[TrackingUpdate, ...],
    *,
    now: datetime,
    source: str,
    only: tuple[Shipment, Order] | None = None,
) -> tuple[int, list[str]]:
    """Apply checkpoints oldest first. Returns (events recorded, tracking numbers not found).

    ``only``: a shipment and its order, locked by the caller; updates for other numbers are
    left alone.
    """
    groups, unmatched = await match_updates(session, updates, only=only)
    return await apply_matched(session, uow, groups, now=now, source=source), unmatched


async def _apply_to_shipment(
    session: AsyncSession,
    uow: UnitOfWork,
    shipment: Shipment,
    order: Order,
    updates: list[TrackingUpdate],
    *,
    now: datetime,
    source: str,
) -> int:
    # The shipment and its order were read under their locks (_find_shipment), or created in
    # this transaction (apply_unmatched): both are current, so an older checkpoint cannot move
    # the status backward.
    assert shipment.id is not None
    milestone_before = shipment.milestone
    fingerprints = {update: checkpoint_fingerprint(update) for update in updates}
    held = await _held_fingerprints(session, order, set(fingerprints.values()))
    recorded = 0
    last_applied: datetime | None = None
    for update in updates:
        fingerprint = fingerprints[update]
        if fingerprint in held:
            continue  # the carrier repeated history we already hold
        held.add(fingerprint)
        if await _apply_checkpoint(
            session, uow, shipment, order, update, fingerprint, now=now, source=source
        ):
            last_applied = update.occurred_at
        recorded += 1
    await session.flush()
    # The order's status follows its shipments' milestones only: when this one's did not
    # move (another scan on the way, an exception), there is nothing to derive.
    if last_applied is not None and shipment.milestone != milestone_before:
        await order_service.settle_order_status(
            session,
            uow,
            order,
            now=now,
            occurred_at=last_applied,
            source=source,
            shipment_id=shipment.id,
        )
    return recorded


async def _held_fingerprints(
    session: AsyncSession, order: Order, fingerprints: set[str]
) -> set[str]:
    """The fingerprints among these that the order's timeline already holds."""
    return set(
        (
            await session.execute(
                HELD_FINGERPRINTS, {"order_id": order.id, "fingerprints": sorted(fingerprints)}
            )
        ).scalars()
    )


async def _apply_checkpoint(
    session: AsyncSession,
    uow: UnitOfWork,
    shipment: Shipment,
    order: Order,
    update: TrackingUpdate,
    fingerprint: str,
    *,
    now: datetime,
    source: str,
) -> bool:
    """Record one new checkpoint on the shipment; whether it moved the shipment's status."""
    assert shipment.id is not None
    newest = carries_news(shipment.status_occurred_at, shipment.milestone, update)
    state = ShipmentState(
        ShipmentStatus(shipment.status),
        ShipmentStatus(shipment.milestone),
        shipment.status_occurred_at,
    )
    decision = apply_checkpoint(state, update.status, update.occurred_at)
    for name, value in shipment_changes(shipment, update, decision).items():
        setattr(shipment, name, value)
    session.add(shipment)
    append_event(
        session,
        uow,
        order,
        now=now,
        **checkpoint_event(update, shipment.id, decision.applied, fingerprint, source),
    )
    if (
        newest
        and update.estimated_delivery
        and update.estimated_delivery != shipment.estimated_delivery
    ):
        shipment.estimated_delivery = update.estimated_delivery
        session.add(shipment)
        await session.flush()
        await order_service.update_order_eta(session, uow, order, now=now, source=source)
    if decision.opens_delay or reports_delay(update, newest):
        await _open_carrier_delay(session, uow, order, shipment, update, now=now, source=source)
    return decision.applied


async def _open_carrier_delay(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    shipment: Shipment,
    update: TrackingUpdate,
    *,
    now: datetime,
    source: str,
) -> None:
    """An exception or failed attempt opens a delay, unless one is already open for the shipment."""
    if is_final(order.status):
        return
    open_ = await session.execute(
        select(col(Delay.id)).where(
            col(Delay.shipment_id) == shipment.id, col(Delay.state) == DelayState.OPEN
        )
    )
    if open_.first() is not None:
        return
    reason = update.reason_code or (
        ReasonCode.RECIPIENT_UNAVAILABLE
        if update.status == ShipmentStatus.ATTEMPT_FAILED
        else ReasonCode.CARRIER
    )
    data = DelayCreate(
        reason_code=reason,
        message=update.message or "The carrier reported a problem with your parcel.",
        new_estimated_delivery=update.estimated_delivery,
    )
    await order_service.open_delay(
        session, uow, order, data, now=now, source=source, shipment_id=shipment.id
    )
