"""Operator tools for kept webhooks: listing and replay (`portal webhooks ...`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from carriers.registry import get_adapter
from realtime.broker import create_broker

from ..clock import utcnow
from ..db import Database
from ..models import WebhookReceipt
from ..settings import Settings
from . import webhooks
from .outbox import Notifier
from .timeline import UnitOfWork, order_channel


async def list_receipts(
    settings: Settings, outcome: str | None, limit: int
) -> list[dict[str, Any]]:
    db = Database(settings.database_url, pool_size=1)
    try:
        stmt = select(WebhookReceipt).order_by(col(WebhookReceipt.id).desc()).limit(limit)
        if outcome:
            stmt = stmt.where(col(WebhookReceipt.outcome) == outcome)
        async with db.read() as session:
            rows = list((await session.execute(stmt)).scalars())
        return [
            {
                "id": r.id,
                "received_at": r.received_at.isoformat(timespec="seconds"),
                "carrier": r.carrier,
                "outcome": r.outcome,
                "tracking_numbers": r.tracking_numbers.strip(","),
                "error": r.error,
            }
            for r in rows
        ]
    finally:
        await db.dispose()


async def replay_receipt(settings: Settings, receipt_id: int) -> dict[str, Any]:
    """Re-parse and apply a kept webhook, then announce its events like any other change."""
    db = Database(settings.database_url, pool_size=1)

    async def ignore(channel: str, message: bytes) -> None:
        return None

    broker = create_broker(settings.redis_url, ignore)
    try:
        async with db.read() as session:
            receipt = await session.get(WebhookReceipt, receipt_id)
        if receipt is None:
            return {"outcome": "not_found", "id": receipt_id}
        adapter = get_adapter(receipt.carrier)
        if adapter is None:
            return {"outcome": "unknown_carrier", "id": receipt_id}
        uow = UnitOfWork(notifier=Notifier.from_settings(settings))
        result = await webhooks.replay(db, uow, receipt_id, adapter, utcnow())
        await broker.start()
        for published in uow.published:
            try:
                await broker.publish(
                    order_channel(settings.instance, published.order_number), published.encode()
                )
            except Exception:  # noqa: S112 - the database has it; pages repair from there
                continue
        return {
            "outcome": result.outcome,
            "id": receipt_id,
            "events": result.applied_events,
            "unmatched": list(result.unmatched),
            "error": result.error,
        }
    finally:
        await broker.stop()
        await db.dispose()
