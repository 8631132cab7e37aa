"""Archive export benchmark: prints figures; it is not a test (and has not been run yet).

Seeds a fresh database with N orders (each with 10 timeline events, 3 sent notifications
carrying a share-link URL, a shipment and a webhook receipt) by bulk inserts, then runs
`portal archive export --since 2000-01-01 --out DIR` as a subprocess and prints its rate in
orders per second and its peak RSS. It runs twice, with N/10 and N orders: flat memory means
both peaks are about the same.

    .venv/bin/python bench/archive_export.py                       # 100,000 orders, SQLite
    .venv/bin/python bench/archive_export.py --orders 20000 --database postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from portal.db import Database  # noqa: E402
from portal.models import (  # noqa: E402
    Notification,
    Order,
    OrderEvent,
    ReceiptTracking,
    ShareLink,
    Shipment,
    WebhookReceipt,
    table_of,
)
from portal.security import hash_token, new_token  # noqa: E402

CHUNK = 1_000
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _rows(start: int, count: int, now: datetime) -> dict[Any, list[dict[str, Any]]]:
    rows: dict[Any, list[dict[str, Any]]] = {m: [] for m in (Order, Shipment, OrderEvent)}
    rows.update({m: [] for m in (Notification, ShareLink, WebhookReceipt, ReceiptTracking)})
    for oid in range(start, start + count):
        number, tracking, token = f"B{oid:07d}", f"JD{oid:012d}", new_token()
        rows[Order].append(
            dict(
                id=oid,
                order_number=number,
                status="in_transit",
                customer_name="Ada",
                customer_email="ada@example.com",
                customer_email_norm="ada@example.com",
                last_seq=10,
                created_at=now,
                updated_at=now,
            )
        )
        rows[Shipment].append(
            dict(
                id=oid,
                order_id=oid,
                carrier="dhl",
                tracking_number=tracking,
                status="in_transit",
                milestone="in_transit",
                shipped_at=now,
                created_at=now,
            )
        )
        rows[ShareLink].append(
            dict(id=oid, order_id=oid, token_hash=hash_token(token), created_at=now)
        )
        rows[WebhookReceipt].append(
            dict(
                id=oid,
                carrier="generic",
                dedupe_key=f"k{oid}",
                outcome="applied",
                body=json.dumps({"tracking_number": tracking}),
                headers="{}",
                tracking_numbers=f",{tracking},",
                received_at=now,
            )
        )
        rows[ReceiptTracking].append(dict(receipt_id=oid, tracking_number=tracking))
        for seq in range(1, 11):
            rows[OrderEvent].append(
                dict(
                    order_id=oid,
                    seq=seq,
                    kind="checkpoint",
                    status="in_transit",
                    occurred_at=now,
                    recorded_at=now,
                    message=f"Checkpoint {seq}",
                    source="bench",
                )
            )
        for n in range(3):
            rows[Notification].append(
                dict(
                    order_id=oid,
                    idempotency_key=f"{number}-{n}",
                    kind="status_update",
                    channel="email",
                    milestone="in_transit",
                    event_seq=n + 1,
                    recipient="ada@example.com",
                    state="sent",
                    body=f"Track it: https://t.example/t/{token}",
                    attempts=1,
                    facts="{}",
                    errors="[]",
                    created_at=now,
                    due_at=now,
                    sent_at=now,
                )
            )
    return rows


async def seed(url: str, orders: int) -> None:
    db = Database(url)
    await db.migrate()
    now = datetime.now(UTC) - timedelta(days=1)
    try:
        for start in range(1, orders + 1, CHUNK):
            batch = _rows(start, min(CHUNK, orders + 1 - start), now)
            async with db.write() as session:
                for model, values in batch.items():
                    await session.execute(table_of(model).insert(), values)
    finally:
        await db.dispose()


def export(url: str, out: Path) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=url,
        PORTAL_SECRET_KEY="b" * 40,
        PORTAL_INSTANCE_DIR=str(out.parent / "instance"),
    )
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "portal",
            "archive",
            "export",
            "--since",
            "2000-01-01",
            "--out",
            str(out),
        ],
        env=env,
        check=True,
    )
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    # RUSAGE_CHILDREN keeps the largest child so far: the small run goes first.
    for orders in (max(1, args.orders // 10), args.orders):
        with tempfile.TemporaryDirectory() as tmp:
            if args.database == "sqlite":
                url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            else:
                base = os.environ.get("PORTAL_TEST_POSTGRES_URL", POSTGRES)
                url = base.rsplit("/", 1)[0] + "/bench_" + uuid.uuid4().hex[:8]
                name = url.rsplit("/", 1)[1]
                subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
            asyncio.run(seed(url, orders))
            elapsed, peak = export(url, Path(tmp) / "out")
            files = len(list((Path(tmp) / "out").glob("*.json.gz")))
            print(
                f"{args.database}: {orders} orders -> {files} files in {elapsed:.1f} s "
                f"({orders / elapsed:.0f} orders/s), peak RSS {peak:.0f} MiB"
            )


if __name__ == "__main__":
    main()
