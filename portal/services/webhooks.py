"""Carrier webhook ingestion: receipt, shipment change, timeline, outbox, in one transaction.

The receipt kept for each delivery is in webhook_receipts, matching updates to shipments in
webhook_matching, applying them in webhook_apply.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from carriers.base import CarrierAdapter, ParsedWebhook, PayloadError

from ..db import Database
from ..errors import NotFound
from ..models import Order, Shipment, WebhookReceipt
from . import plain_checkpoint, receipt_links
from .timeline import UnitOfWork
from .webhook_apply import apply_matched, apply_updates
from .webhook_matching import Matched, lock_tracking_numbers, match_updates
from .webhook_receipts import (
    INSERT_RECEIPT,
    IngestResult,
    Outcome,
    audit_headers,
    find_receipt_id,
    received_body,
    stored_body,
    stored_dedupe_key,
    tracking_list,
)


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
    key = stored_dedupe_key(parsed.dedupe_key)
    text, exact = stored_body(body)
    try:
        async with db.write() as session:
            rules = uow.notifier.rules if uow.notifier is not None else None
            plain = await plain_checkpoint.qualify(session, parsed.updates, rules)
            groups: Matched = {}
            unmatched: list[str] = []
            if plain is None:
                groups, unmatched = await match_updates(session, parsed.updates)
            outcome = Outcome.UNMATCHED if unmatched else Outcome.APPLIED
            # The unique (carrier, dedupe_key) index is the dedupe: the receipt is written
            # before anything else, so a redelivery fails here having changed nothing, and on
            # PostgreSQL a concurrent twin waits here until the first one commits. (A plain
            # INSERT: the receipt is not changed later, so it needs no ORM object.)
            numbers = tracking_list(parsed)
            receipt_id = (
                await session.execute(
                    INSERT_RECEIPT,
                    {
                        "carrier": carrier,
                        "dedupe_key": key,
                        "outcome": outcome,
                        "body": text,
                        "body_base64": exact,
                        "headers": audit_headers(headers),
                        "tracking_numbers": numbers[:1000],
                        "received_at": now,
                        "applied_at": None if unmatched else now,
                    },
                )
            ).scalar_one()
            await receipt_links.link(session, receipt_id, outcome, numbers, text)
            source = f"carrier:{carrier}"
            if plain is not None:
                applied = await plain_checkpoint.record(session, uow, plain, now=now, source=source)
            else:
                applied = await apply_matched(session, uow, groups, now=now, source=source)
            return IngestResult(outcome, receipt_id, applied, tuple(unmatched))
    except IntegrityError:
        # Only a twin that committed first makes this a duplicate; any other constraint
        # failure must not be answered 2xx, or the carrier would never send it again.
        uow.published.clear()
        uow.notifications = 0
        async with db.read() as session:
            twin = await find_receipt_id(session, carrier, key)
        if twin is None:
            raise
        return IngestResult(Outcome.DUPLICATE, twin)


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
    # Meets a webhook for this number being ingested right now: either it committed its
    # unmatched receipt before this lock (then the query below sees it) or it waits for this
    # transaction and then finds the shipment.
    await lock_tracking_numbers(session, [shipment.tracking_number])
    rows = await session.execute(
        select(WebhookReceipt)
        .where(
            col(WebhookReceipt.outcome) == Outcome.UNMATCHED,
            col(WebhookReceipt.id).in_(receipt_links.receipts_about(shipment.tracking_number)),
        )
        .order_by(col(WebhookReceipt.id))
    )
    applied = 0
    for receipt in rows.scalars():
        adapter = adapters.get(receipt.carrier)
        if adapter is None:
            continue
        try:
            parsed = adapter.parse(received_body(receipt), json.loads(receipt.headers))
        except PayloadError:
            continue
        mine = tuple(u for u in parsed.updates if u.tracking_number == shipment.tracking_number)
        count, _ = await apply_updates(
            session, uow, mine, now=now, source=f"carrier:{receipt.carrier}", only=(shipment, order)
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
            return IngestResult(Outcome(receipt.outcome), receipt.id)
        try:
            parsed = adapter.parse(received_body(receipt), json.loads(receipt.headers))
        except PayloadError as exc:
            receipt.error = str(exc)[:1000]
            session.add(receipt)
            return IngestResult(Outcome.DEAD_LETTER, receipt.id, error=str(exc))
        key = stored_dedupe_key(parsed.dedupe_key)
        twin = await find_receipt_id(session, receipt.carrier, key)
        if twin is not None and twin != receipt.id:
            receipt.outcome = Outcome.DUPLICATE
            session.add(receipt)
            await receipt_links.relink(
                session, receipt_id, receipt.outcome, receipt.tracking_numbers, receipt.body
            )
            return IngestResult(Outcome.DUPLICATE, receipt.id)
        applied, unmatched = await apply_updates(
            session, uow, parsed.updates, now=now, source=f"carrier:{receipt.carrier}"
        )
        receipt.dedupe_key = key
        numbers = tracking_list(parsed)
        receipt.tracking_numbers = numbers[:1000]
        receipt.outcome = Outcome.UNMATCHED if unmatched else Outcome.APPLIED
        receipt.error = None
        receipt.applied_at = None if unmatched else now
        session.add(receipt)
        await receipt_links.relink(session, receipt_id, receipt.outcome, numbers, receipt.body)
        return IngestResult(receipt.outcome, receipt.id, applied, tuple(unmatched))
