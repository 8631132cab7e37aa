"""Matching carrier updates to the shipments they name, under the locks the change needs."""

from __future__ import annotations

import hashlib

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from carriers.base import TrackingUpdate

from ..models import Order, Shipment
from .checkpoints import pick_shipment

# Built once: the tracking number comes as a parameter.
_FIND_SHIPMENT = (
    select(Shipment, Order)
    .join(Order, col(Order.id) == col(Shipment.order_id))
    .where(col(Shipment.tracking_number) == bindparam("tracking_number"))
    .order_by(col(Shipment.id))
    .with_for_update(of=[Order, Shipment])
)


async def _find_shipment(
    session: AsyncSession, update: TrackingUpdate
) -> tuple[Shipment, Order] | None:
    """The shipment an update names, with its order, both locked for the change (one statement).

    On PostgreSQL the order row is locked first (the order every writer follows), then the
    shipment's; a row whose lock had to wait is read again once granted, so both are current.
    """
    rows = (
        await session.execute(_FIND_SHIPMENT, {"tracking_number": update.tracking_number})
    ).all()
    if not rows:
        return None
    shipment, order = pick_shipment(rows, update.carrier, lambda row: row[0].carrier)
    return shipment, order


Matched = dict[int, tuple[Shipment, Order, list[TrackingUpdate]]]


async def match_updates(
    session: AsyncSession,
    updates: tuple[TrackingUpdate, ...],
    *,
    only: tuple[Shipment, Order] | None = None,
    lookup_only: bool = False,
) -> tuple[Matched, list[str]]:
    """Group updates by the shipment they name, oldest first; and the numbers not found.

    The orders of the shipments found are locked (on PostgreSQL) until the transaction ends.
    """
    groups: Matched = {}
    unmatched: list[str] = []
    found: dict[tuple[str, str], tuple[Shipment, Order] | None] = {}
    for update in sorted(updates, key=lambda u: u.occurred_at):
        if only is not None:
            if only[0].tracking_number != update.tracking_number:
                continue
            target: tuple[Shipment, Order] | None = only
        else:
            lookup = (update.tracking_number, update.carrier)
            if lookup not in found:
                found[lookup] = await _find_shipment(session, update)
            target = found[lookup]
        if target is None:
            if update.tracking_number not in unmatched:
                unmatched.append(update.tracking_number)
            continue
        shipment, order = target
        assert shipment.id is not None
        groups.setdefault(shipment.id, (shipment, order, []))[2].append(update)
    if (
        unmatched
        and only is None
        and not lookup_only
        and await lock_tracking_numbers(session, unmatched)
    ):
        # The shop may be registering one of these numbers at this very moment: look again
        # once its transaction is over (see apply_unmatched), so the update is not kept
        # unmatched for a shipment that exists.
        late = [u for u in updates if u.tracking_number in unmatched]
        found_late, unmatched = await match_updates(session, tuple(late), lookup_only=True)
        for shipment_id, (shipment, order, more) in found_late.items():
            merged = groups.setdefault(shipment_id, (shipment, order, []))[2]
            merged.extend(more)
            merged.sort(key=lambda u: u.occurred_at)
    return groups, unmatched


async def lock_tracking_numbers(session: AsyncSession, numbers: list[str]) -> bool:
    """On PostgreSQL, a transaction lock per tracking number, taken in sorted order."""
    if not concurrent_writers(session):
        return False
    for number in sorted(set(numbers)):
        digest = hashlib.sha256(b"portal:tracking:" + number.encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(key)))
    return True


def concurrent_writers(session: AsyncSession) -> bool:
    """Whether another transaction may have changed rows this one read before its locks.

    SQLite runs one write transaction at a time (and the portal serialises them), so rows
    read inside one are current; PostgreSQL runs them side by side.
    """
    bind = session.bind
    return bind is None or bind.dialect.name != "sqlite"
