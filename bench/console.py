"""Console benchmark, search part: prints figures; it is not a test. (Written, not yet run here.)

Seeds a fresh database with N orders (default 100,000), each with one shipment, three timeline
events (300,000) and two notifications (200,000), with varied customer names, emails and
phones; then runs the console's search (portal.services.search.search_orders, the statements
GET /support/orders and GET /api/v1/orders run) for 200 random orders per field and prints
p50/p99 per field. Targets (issue 13): p99 under 20 ms for order number, email, phone and
tracking number, under 100 ms for a name substring.

    .venv/bin/python bench/console.py                       # SQLite in a temporary folder
    .venv/bin/python bench/console.py --orders 10000
    .venv/bin/python bench/console.py --database postgresql+asyncpg://postgres@127.0.0.1/bench

The PostgreSQL database named must exist and be empty (it is migrated here). The order-screen
and socket parts of the issue's benchmark are not written yet.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlmodel import SQLModel  # noqa: E402

from portal.db import Database  # noqa: E402
from portal.domain.search import parse_query  # noqa: E402
from portal.models import Notification, Order, OrderEvent, Shipment, table_of  # noqa: E402
from portal.services.search import search_orders  # noqa: E402

CHUNK = 5_000
SAMPLES = 200
FIRST = ("Ada", "Grace", "Alan", "Lucía", "Katherine", "Edsger", "Barbara", "Donald", "Frances")
LAST = ("Lovelace", "Hopper", "Turing", "Pérez", "Johnson", "Dijkstra", "Liskov", "Knuth", "Allen")


def _name(i: int) -> str:
    return f"{FIRST[i % len(FIRST)]} {LAST[(i // 7) % len(LAST)]}-{i:06d}"


def _phone(i: int) -> str:
    return f"+1415{i:07d}"


def _phone_typed(i: int) -> str:
    digits = f"{i:07d}"
    return f"(415) {digits[:3]}-{digits[3:]}"


def _rows(start: int, stop: int, now: datetime) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {
        "orders": [],
        "shipments": [],
        "events": [],
        "notes": [],
    }
    for i in range(start, stop):
        created = now - timedelta(minutes=i)
        email = f"customer{i}@example{i % 97}.com"
        rows["orders"].append(
            {
                "id": i + 1,
                "order_number": f"S{i:07d}",
                "status": "in_transit",
                "customer_name": _name(i),
                "customer_email": email,
                "customer_email_norm": email,
                "customer_phone": _phone(i),
                "locale": "en",
                "timezone": "UTC",
                "opt_out_channels": "",
                "last_seq": 3,
                "created_at": created,
                "updated_at": created,
            }
        )
        rows["shipments"].append(
            {
                "id": i + 1,
                "order_id": i + 1,
                "carrier": "ups",
                "tracking_number": f"1Z{i:010d}X",
                "status": "in_transit",
                "milestone": "in_transit",
                "shipped_at": created,
                "created_at": created,
            }
        )
        for seq in (1, 2, 3):
            rows["events"].append(
                {
                    "order_id": i + 1,
                    "seq": seq,
                    "kind": "checkpoint",
                    "occurred_at": created + timedelta(hours=seq),
                    "recorded_at": created + timedelta(hours=seq),
                    "message": "scan",
                    "source": "bench",
                    "applied": True,
                }
            )
        for n, kind in enumerate(("order_confirmation", "shipping")):
            rows["notes"].append(
                {
                    "order_id": i + 1,
                    "idempotency_key": f"{i}:{kind}",
                    "kind": kind,
                    "channel": "email",
                    "milestone": "placed",
                    "event_seq": n + 1,
                    "facts": "{}",
                    "recipient": email,
                    "locale": "en",
                    "state": "sent",
                    "subject": "",
                    "body": "bench",
                    "attempts": 1,
                    "errors": "[]",
                    "created_at": created,
                    "due_at": created,
                }
            )
    return rows


TABLES: dict[str, type[SQLModel]] = {
    "orders": Order,
    "shipments": Shipment,
    "events": OrderEvent,
    "notes": Notification,
}


async def seed(db: Database, orders: int) -> None:
    now = datetime.now(UTC)
    for start in range(0, orders, CHUNK):
        rows = _rows(start, min(start + CHUNK, orders), now)
        async with db.write() as session:
            for name, model in TABLES.items():
                await session.execute(table_of(model).insert(), rows[name])
        print(f"  seeded {min(start + CHUNK, orders):,} orders", flush=True)


FIELDS: dict[str, Callable[[int], str]] = {
    "order number": lambda i: f"S{i:07d}",
    "email": lambda i: f"customer{i}@example{i % 97}.com",
    "phone (E.164)": _phone,
    "phone (as typed)": _phone_typed,
    "tracking number": lambda i: f"1z{i:010d}x",
    "name substring": lambda i: _name(i).split(" ", 1)[1][-10:],
}


async def measure(url: str, orders: int) -> None:
    db = Database(url)
    try:
        await db.migrate()
        started = time.perf_counter()
        await seed(db, orders)
        print(f"seeding took {time.perf_counter() - started:.1f} s")
        rng = random.Random(13)
        for field, make in FIELDS.items():
            timings = []
            for _ in range(SAMPLES):
                query = parse_query(make(rng.randrange(orders)))
                assert query is not None
                begun = time.perf_counter()
                async with db.read() as session:
                    page = await search_orders(session, query, limit=20)
                timings.append((time.perf_counter() - begun) * 1000)
                assert page.hits, f"{field}: nothing found for {query.text!r}"
            timings.sort()
            p99 = timings[int(len(timings) * 0.99) - 1]
            print(
                f"{db.engine.dialect.name}: search by {field}: "
                f"p50 {statistics.median(timings):.1f} ms, p99 {p99:.1f} ms"
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
