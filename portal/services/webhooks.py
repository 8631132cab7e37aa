"""Carrier webhook ingestion: receipt, shipment change, timeline, outbox, in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from carriers.base import CarrierAdapter, ParsedWebhook, PayloadError, TrackingUpdate
from carriers.status import ReasonCode, ShipmentStatus

from ..db import Database
from ..domain.status import ShipmentState, apply_checkpoint
from ..errors import NotFound
from ..models import Delay, Order, OrderEvent, Shipment, WebhookReceipt
from ..schemas import DelayCreate
from . import orders as order_service
from .timeline import UnitOfWork, append_event, lock_order_by_id

# Headers worth keeping for audit (signatures prove what was received). The UPS credential and
# Authorization headers, and Shippo's ?token=, ARE the secrets: they are never stored.
AUDIT_HEADERS = (
    "content-type",
    "user-agent",
    "x-request-id",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "x-hmac-signature",
    "aftership-hmac-sha256",
    "as-webhook-version",
    "shippo-auth-signature",
    "shippo-signature",
    "fdx-signature",
)


class Outcome:
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    UNMATCHED = "unmatched"
    DEAD_LETTER = "dead_letter"
    REPLAYED = "replayed"


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: str
    receipt_id: int | None
    applied_events: int = 0
    unmatched: tuple[str, ...] = ()
    error: str | None = None


def audit_headers(headers: Mapping[str, str]) -> str:
    kept = {name: headers[name] for name in AUDIT_HEADERS if name in headers}
    return json.dumps(kept, sort_keys=True)


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


def _tracking_list(parsed: ParsedWebhook) -> str:
    numbers = sorted({u.tracking_number for u in parsed.updates})
    return "," + ",".join(numbers) + "," if numbers else ""


async def record_dead_letter(
    db: Database, carrier: str, body: bytes, headers: Mapping[str, str], error: str, now: datetime
) -> int | None:
    """Keep an authenticated but unparseable body so it can be replayed after a fix."""
    key = "body:" + hashlib.sha256(body).hexdigest()
    try:
        async with db.write() as session:
            existing = (
                await session.execute(
                    select(WebhookReceipt).where(
                        col(WebhookReceipt.carrier) == carrier,
                        col(WebhookReceipt.dedupe_key) == key,
                    )
                )
            ).scalar_one_or_none()
            if existing is not None:
                return existing.id
            receipt = WebhookReceipt(
                carrier=carrier,
                dedupe_key=key,
                outcome=Outcome.DEAD_LETTER,
                body=body.decode("utf-8", errors="replace"),
                headers=audit_headers(headers),
                error=error[:1000],
                received_at=now,
            )
            session.add(receipt)
            await session.flush()
            return receipt.id
    except IntegrityError:
        return None


async def ingest(
    db: Database,
    uow: UnitOfWork,
    carrier: str,
    parsed: ParsedWebhook,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
) -> IngestResult:
    """Store the receipt and apply its updates once; a repeated dedupe key changes nothing."""
    try:
        async with db.write() as session:
            existing = (
                await session.execute(
                    select(col(WebhookReceipt.id)).where(
                        col(WebhookReceipt.carrier) == carrier,
                        col(WebhookReceipt.dedupe_key) == parsed.dedupe_key,
                    )
                )
            ).first()
            if existing is not None:
                return IngestResult(Outcome.DUPLICATE, existing[0])
            receipt = WebhookReceipt(
                carrier=carrier,
                dedupe_key=parsed.dedupe_key[:200],
                outcome=Outcome.UNMATCHED,
                body=body.decode("utf-8", errors="replace"),
                headers=audit_headers(headers),
                tracking_numbers=_tracking_list(parsed)[:1000],
                received_at=now,
            )
            session.add(receipt)
            # On PostgreSQL a concurrent duplicate waits here on the unique index.
            await session.flush()
            applied, unmatched = await apply_updates(
                session, uow, parsed.updates, now=now, source=f"carrier:{carrier}"
            )
            receipt.outcome = Outcome.APPLIED if not unmatched else Outcome.UNMATCHED
            if applied and not unmatched:
                receipt.applied_at = now
            session.add(receipt)
            return IngestResult(receipt.outcome, receipt.id, applied, tuple(unmatched))
    except IntegrityError:
        return IngestResult(Outcome.DUPLICATE, None)


async def _find_shipment(session: AsyncSession, update: TrackingUpdate) -> Shipment | None:
    rows = list(
        (
            await session.execute(
                select(Shipment).where(col(Shipment.tracking_number) == update.tracking_number)
            )
        ).scalars()
    )
    if len(rows) <= 1:
        return rows[0] if rows else None
    same_carrier = [s for s in rows if s.carrier == update.carrier]
    return same_carrier[0] if same_carrier else rows[0]


async def apply_updates(
    session: AsyncSession,
    uow: UnitOfWork,
    updates: tuple[TrackingUpdate, ...],
    *,
    now: datetime,
    source: str,
    only_shipment: Shipment | None = None,
) -> tuple[int, list[str]]:
    """Apply checkpoints oldest first. Returns (events recorded, tracking numbers not found)."""
    by_shipment: dict[int, tuple[Shipment, list[TrackingUpdate]]] = {}
    unmatched: list[str] = []
    for update in sorted(updates, key=lambda u: u.occurred_at):
        shipment = (
            only_shipment if only_shipment is not None else await _find_shipment(session, update)
        )
        if shipment is None or shipment.tracking_number != update.tracking_number:
            if shipment is None and update.tracking_number not in unmatched:
                unmatched.append(update.tracking_number)
            continue
        assert shipment.id is not None
        by_shipment.setdefault(shipment.id, (shipment, []))[1].append(update)
    recorded = 0
    for shipment, shipment_updates in by_shipment.values():
        recorded += await _apply_to_shipment(
            session, uow, shipment, shipment_updates, now=now, source=source
        )
    return recorded, unmatched


async def _apply_to_shipment(
    session: AsyncSession,
    uow: UnitOfWork,
    shipment: Shipment,
    updates: list[TrackingUpdate],
    *,
    now: datetime,
    source: str,
) -> int:
    order = await lock_order_by_id(session, shipment.order_id)
    assert shipment.id is not None
    recorded = 0
    last_applied: datetime | None = None
    for update in updates:
        fingerprint = checkpoint_fingerprint(update)
        seen = await session.execute(
            select(col(OrderEvent.id)).where(
                col(OrderEvent.order_id) == order.id, col(OrderEvent.fingerprint) == fingerprint
            )
        )
        if seen.first() is not None:
            continue  # the carrier repeated history we already hold
        state = ShipmentState(
            ShipmentStatus(shipment.status),
            ShipmentStatus(shipment.milestone),
            shipment.status_occurred_at,
        )
        decision = apply_checkpoint(state, update.status, update.occurred_at)
        if decision.applied:
            shipment.status = decision.state.status.value
            shipment.milestone = decision.state.milestone.value
            shipment.status_occurred_at = decision.state.status_occurred_at
            shipment.reason_code = update.reason_code.value if update.reason_code else None
            if (
                decision.state.milestone == ShipmentStatus.DELIVERED
                and shipment.delivered_at is None
            ):
                shipment.delivered_at = update.occurred_at
            last_applied = update.occurred_at
        if update.public_url and not shipment.public_url:
            shipment.public_url = update.public_url[:500]
        session.add(shipment)
        append_event(
            session,
            uow,
            order,
            kind="checkpoint",
            status=update.status.value,
            occurred_at=update.occurred_at,
            now=now,
            message=update.message or update.status.value.replace("_", " "),
            location=update.location.label() if update.location else None,
            reason_code=update.reason_code.value if update.reason_code else None,
            source=source,
            shipment_id=shipment.id,
            applied=decision.applied,
            fingerprint=fingerprint,
            data={"carrier_status": update.carrier_status},
        )
        recorded += 1
        if (
            decision.applied
            and update.estimated_delivery
            and update.estimated_delivery != shipment.estimated_delivery
        ):
            shipment.estimated_delivery = update.estimated_delivery
            session.add(shipment)
            await session.flush()
            await order_service.update_order_eta(session, uow, order, now=now, source=source)
        if decision.opens_delay:
            await _open_carrier_delay(session, uow, order, shipment, update, now=now, source=source)
    await session.flush()
    if last_applied is not None:
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
    if order.status in ("delivered", "cancelled", "returned"):
        return
    open_ = await session.execute(
        select(col(Delay.id)).where(
            col(Delay.shipment_id) == shipment.id, col(Delay.state) == "open"
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


async def apply_unmatched(
    session: AsyncSession,
    uow: UnitOfWork,
    order: Order,
    shipment: Shipment,
    *,
    now: datetime,
    adapters: Mapping[str, CarrierAdapter] | None = None,
) -> int:
    """Apply webhooks that named this tracking number before the shop registered it."""
    from carriers.registry import ADAPTERS

    adapters = ADAPTERS if adapters is None else adapters
    rows = await session.execute(
        select(WebhookReceipt)
        .where(
            col(WebhookReceipt.outcome) == Outcome.UNMATCHED,
            col(WebhookReceipt.tracking_numbers).contains(f",{shipment.tracking_number},"),
        )
        .order_by(col(WebhookReceipt.id))
    )
    applied = 0
    for receipt in rows.scalars():
        adapter = adapters.get(receipt.carrier)
        if adapter is None:
            continue
        try:
            parsed = adapter.parse(receipt.body.encode("utf-8"), json.loads(receipt.headers))
        except PayloadError:
            continue
        mine = tuple(u for u in parsed.updates if u.tracking_number == shipment.tracking_number)
        count, _ = await apply_updates(
            session, uow, mine, now=now, source=f"carrier:{receipt.carrier}", only_shipment=shipment
        )
        applied += count
        still_unknown = [
            number
            for number in {u.tracking_number for u in parsed.updates}
            if number != shipment.tracking_number
            and (
                await session.execute(
                    select(col(Shipment.id)).where(col(Shipment.tracking_number) == number)
                )
            ).first()
            is None
        ]
        if not still_unknown:
            receipt.outcome = Outcome.APPLIED
            receipt.applied_at = now
            session.add(receipt)
    return applied


async def replay(
    db: Database, uow: UnitOfWork, receipt_id: int, adapter: CarrierAdapter, now: datetime
) -> IngestResult:
    """Parse a kept body again (after a fix) and apply it; for dead letters and unmatched ones."""
    async with db.write() as session:
        receipt = await session.get(WebhookReceipt, receipt_id)
        if receipt is None:
            raise NotFound(f"no webhook receipt {receipt_id}")
        if receipt.outcome not in (Outcome.DEAD_LETTER, Outcome.UNMATCHED):
            return IngestResult(receipt.outcome, receipt.id)
        try:
            parsed = adapter.parse(receipt.body.encode("utf-8"), json.loads(receipt.headers))
        except PayloadError as exc:
            receipt.error = str(exc)[:1000]
            session.add(receipt)
            return IngestResult(Outcome.DEAD_LETTER, receipt.id, error=str(exc))
        twin = (
            await session.execute(
                select(col(WebhookReceipt.id)).where(
                    col(WebhookReceipt.carrier) == receipt.carrier,
                    col(WebhookReceipt.dedupe_key) == parsed.dedupe_key,
                    col(WebhookReceipt.id) != receipt.id,
                )
            )
        ).first()
        if twin is not None:
            receipt.outcome = Outcome.DUPLICATE
            session.add(receipt)
            return IngestResult(Outcome.DUPLICATE, receipt.id)
        applied, unmatched = await apply_updates(
            session, uow, parsed.updates, now=now, source=f"carrier:{receipt.carrier}"
        )
        receipt.dedupe_key = parsed.dedupe_key[:200]
        receipt.tracking_numbers = _tracking_list(parsed)[:1000]
        receipt.outcome = Outcome.UNMATCHED if unmatched else Outcome.APPLIED
        receipt.error = None
        receipt.applied_at = None if unmatched else now
        session.add(receipt)
        return IngestResult(receipt.outcome, receipt.id, applied, tuple(unmatched))
