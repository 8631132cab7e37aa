"""Review-report benchmark: prints figures; it is not a test. (Written, not yet run here.)

Seeds a fresh database with N orders (default 100,000), each with one shipment and ten
timeline events (1,000,000), three notifications per order (300,000), a delay on every tenth
order and feedback on every fifth, spread over the last 180 days; then times the review report
(portal.services.reports.build_report, the statements GET /api/v1/reports runs) for the last
quarter, three times, and prints the best and the median. Targets (issue 15): under 2 s on
PostgreSQL and under 5 s on SQLite.

    .venv/bin/python bench/reports.py                       # SQLite in a temporary folder
    .venv/bin/python bench/reports.py --orders 10000
    .venv/bin/python bench/reports.py --database postgresql+asyncpg://postgres@127.0.0.1/bench

The PostgreSQL database named must exist and be empty (it is migrated here).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from portal.db import Database  # noqa: E402
from portal.domain.kpis import Period  # noqa: E402
from portal.models import (  # noqa: E402
    Delay,
    Feedback,
    Notification,
    Order,
    OrderEvent,
    Shipment,
    table_of,
)
from portal.services.reports import build_report  # noqa: E402

CHUNK = 5_000
CARRIERS = ("ups", "dhl", "fedex", "usps", "gls")
KINDS = (("order_confirmation", "email"), ("shipping", "sms"), ("delivery", "email"))


def _order(i: int, created: datetime, delivered: datetime, promised: date) -> dict[str, Any]:
    return {
        "id": i + 1,
        "order_number": f"B{i:07d}",
        "status": "delivered",
        "customer_name": "Bench",
        "customer_email": "bench@example.com",
        "customer_email_norm": "bench@example.com",
        "locale": ("en", "es")[i % 2],
        "timezone": "UTC",
        "opt_out_channels": "",
        "promised_deliver_by": promised,
        "estimated_delivery": promised,
        "last_seq": 10,
        "created_at": created,
        "updated_at": delivered,
        "delivered_at": delivered,
    }


def _shipment(i: int, created: datetime, delivered: datetime, promised: date) -> dict[str, Any]:
    return {
        "id": i + 1,
        "order_id": i + 1,
        "carrier": CARRIERS[i % len(CARRIERS)],
        "tracking_number": f"T{i:09d}",
        "status": "delivered",
        "milestone": "delivered",
        "estimated_delivery": promised - timedelta(days=i % 3),
        "shipped_at": created + timedelta(days=1),
        "delivered_at": delivered,
        "created_at": created + timedelta(days=1),
    }


def _events(i: int, created: datetime) -> list[dict[str, Any]]:
    return [
        {
            "order_id": i + 1,
            "seq": seq,
            "kind": "checkpoint",
            "occurred_at": created + timedelta(hours=seq * 4),
            "recorded_at": created + timedelta(hours=seq * 4),
            "message": "scan",
            "source": "bench",
            "applied": True,
        }
        for seq in range(1, 11)
    ]


def _notifications(i: int, created: datetime) -> list[dict[str, Any]]:
    rows = []
    for n, (kind, channel) in enumerate(KINDS):
        at = created + timedelta(days=n)
        rows.append(
            {
                "order_id": i + 1,
                "idempotency_key": f"{i}:{kind}:{channel}",
                "kind": kind,
                "channel": channel,
                "milestone": "placed",
                "event_seq": n + 1,
                "facts": "{}",
                "recipient": "bench@example.com",
                "locale": ("en", "es")[i % 2],
                "state": ("sent", "sent", "sent", "failed", "dead")[i % 5],
                "template_version": 1 + i % 2,
                "subject": "",
                "body": "bench",
                "attempts": 1,
                "errors": "[]",
                "created_at": at,
                "due_at": at,
                "sent_at": at + timedelta(seconds=1 + i % 30),
            }
        )
    return rows


def _order_rows(start: int, stop: int, now: datetime) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for i in range(start, stop):
        # Spread over 180 days, all delivered by now (two to five days after the order).
        created = now - timedelta(days=7 + (i * 7919) % 173, minutes=i % 1440)
        delivered = created + timedelta(days=2 + i % 4)
        promised = (created + timedelta(days=4)).date()
        rows["orders"].append(_order(i, created, delivered, promised))
        rows["shipments"].append(_shipment(i, created, delivered, promised))
        rows["events"].extend(_events(i, created))
        rows["notifications"].extend(_notifications(i, created))
        if i % 10 == 0:
            rows["delays"].append(
                {
                    "order_id": i + 1,
                    "reason_code": ("weather", "customs", "carrier")[i % 3],
                    "message": "late",
                    "alternatives": "[]",
                    "state": "resolved",
                    "source": "bench",
                    "opened_at": created + timedelta(days=1),
                }
            )
        if i % 5 == 0:
            rows["feedback"].append(
                {"order_id": i + 1, "rating": 1 + i % 5, "comment": "", "created_at": delivered}
            )
    return rows


TABLES = {
    "orders": Order,
    "shipments": Shipment,
    "events": OrderEvent,
    "notifications": Notification,
    "delays": Delay,
    "feedback": Feedback,
}


async def seed(db: Database, orders: int) -> None:
    now = datetime.now(UTC)
    for start in range(0, orders, CHUNK):
        rows = _order_rows(start, min(start + CHUNK, orders), now)
        async with db.write() as session:
            for name, model in TABLES.items():
                if rows[name]:
                    await session.execute(table_of(model).insert(), rows[name])
        print(f"  seeded {min(start + CHUNK, orders):,} orders", flush=True)


async def measure(url: str, orders: int) -> None:
    db = Database(url)
    try:
        await db.migrate()
        started = time.perf_counter()
        await seed(db, orders)
        print(f"seeding took {time.perf_counter() - started:.1f} s")
        today = date.today()
        period = Period(today - timedelta(days=90), today)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            async with db.read() as session:
                report = await build_report(session, period)
            timings.append(time.perf_counter() - started)
        rows = sum(len(s.rows) for s in report.sections)
        print(
            f"{db.engine.dialect.name}: report for a quarter over {orders:,} orders: "
            f"best {min(timings):.2f} s, median {statistics.median(timings):.2f} s "
            f"({rows} result rows)"
        )
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--database", help="a database URL (default: SQLite in a temp folder)")
    args = parser.parse_args()
    if args.database:
        asyncio.run(measure(args.database, args.orders))
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(f"sqlite+aiosqlite:///{folder}/bench.db", args.orders))


if __name__ == "__main__":
    main()
