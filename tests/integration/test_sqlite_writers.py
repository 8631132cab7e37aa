"""Two processes on one SQLite file (two Database objects, two write locks) never clash."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from portal.db import Database
from portal.models import Order, OrderEvent
from portal.schemas import DelayCreate, OrderCreate
from portal.services import orders
from portal.services.outbox import Notifier
from portal.services.timeline import UnitOfWork, lock_order
from portal.settings import load_settings


async def test_two_databases_on_one_file_keep_seq_consecutive(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    settings = replace(
        load_settings({"PORTAL_INSTANCE_DIR": str(tmp_path), "PORTAL_SECRET_KEY": "k" * 40}),
        database_url=url,
    )
    notifier = Notifier.from_settings(settings)
    first, second = Database(url, pool_size=2), Database(url, pool_size=2)
    try:
        await first.migrate()
        data = OrderCreate.model_validate(
            {
                "order_number": "SHARED-1",
                "customer": {"name": "A", "email": "a@example.com"},
                "items": [{"sku": "X", "name": "X", "quantity": 1}],
                "promised_ship_by": "2030-01-01",
                "promised_deliver_by": "2030-01-02",
            }
        )
        async with first.write() as session:
            await orders.create_order(
                session, UnitOfWork(notifier=notifier), data, now=datetime.now(UTC), source="t"
            )

        async def delay(db: Database, n: int) -> None:
            async with db.write() as session:
                order = await lock_order(session, "SHARED-1")
                change = DelayCreate(reason_code="carrier", message=f"late {n}")  # type: ignore[arg-type]
                await orders.open_delay(
                    session,
                    UnitOfWork(notifier=notifier),
                    order,
                    change,
                    now=datetime.now(UTC),
                    source="t",
                )

        await asyncio.gather(*(delay(first if n % 2 else second, n) for n in range(12)))
        async with first.read() as session:
            order = (await session.execute(select(Order))).scalar_one()
            seqs = list(
                (
                    await session.execute(select(OrderEvent.seq).order_by(col(OrderEvent.seq)))
                ).scalars()
            )
        assert seqs == list(range(1, order.last_seq + 1))
        assert len([s for s in seqs]) == 13
    finally:
        await first.dispose()
        await second.dispose()
