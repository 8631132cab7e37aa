"""Order-screen benchmark: prints figures; it is not a test. (Written, not yet run here.)

Seeds a fresh database with one order of 500 timeline events, 100 notifications (each with a
body of ordinary length), 20 share links and 50 CRM entries, then times what the order screen
does for a page and for every live frame: read the screen's values on a plain connection
(portal.services.screen.view.read_screen_view) and render every live part
(portal.web.screen.render.ScreenRenderer.frame). Prints p50/p99 over 200 rounds, the whole
frame's size (a snapshot) and a live frame's for one more checkpoint (only what changed:
portal.web.screen.frames). The rounds run with the garbage collector set up as the servers
set it (portal.app.tuned_collector: start-up frozen, young collections every 20,000
allocations); under Python's defaults a full collection every ~30 rounds walked the whole
heap and made the p99. Target (issue 13): such an order's screen rendered in under 50 ms.

    .venv/bin/python bench/order_screen.py
    .venv/bin/python bench/order_screen.py --database postgresql+asyncpg://postgres@127.0.0.1/bench

The PostgreSQL database named must exist and be empty (it is migrated here). The socket part of
the issue's benchmark (50 screens and 5,000 customer sockets at 100 webhooks/s) is
bench/console_live.py.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from portal.app import tuned_collector  # noqa: E402
from portal.db import Database  # noqa: E402
from portal.models import Notification, Order, OrderEvent, ShareLink, table_of  # noqa: E402
from portal.models_crm import Interaction  # noqa: E402
from portal.services.screen.view import read_screen_view  # noqa: E402
from portal.web.render import make_environment  # noqa: E402
from portal.web.screen.frames import EVERYTHING, ScreenFrames  # noqa: E402
from portal.web.screen.render import ScreenRenderer  # noqa: E402

NUMBER = "BENCH-SCREEN-1"
BODY = (
    "Hello Ada,\n\nYour order BENCH-SCREEN-1 is on its way with DHL, tracking number "
    "JD014600003828.\nFollow it at http://127.0.0.1:8000/t/abcdefghijklmnopqrstuvwxyz012345\n\n"
    "Thank you for shopping with us.\n"
) * 3


def _rows(now: datetime, events: int, notes: int) -> dict[Any, list[dict[str, Any]]]:
    order = {
        "id": 1,
        "order_number": NUMBER,
        "status": "in_transit",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "customer_email_norm": "ada@example.com",
        "customer_phone": "+14155552671",
        "locale": "en",
        "timezone": "Europe/London",
        "opt_out_channels": "",
        "last_seq": events,
        "created_at": now - timedelta(days=5),
        "updated_at": now,
    }
    return {
        table_of(Order): [order],
        table_of(OrderEvent): [
            {
                "order_id": 1,
                "seq": seq,
                "kind": "checkpoint",
                "status": "in_transit",
                "occurred_at": now - timedelta(minutes=events - seq),
                "recorded_at": now - timedelta(minutes=events - seq),
                "message": f"Scanned at hub {seq}",
                "location": "Leipzig, SN, DE",
                "source": "bench",
                "applied": True,
            }
            for seq in range(1, events + 1)
        ],
        table_of(ShareLink): [
            {
                "order_id": 1,
                "token_hash": f"{n:064d}",
                "purpose": "customer",
                "created_by": "bench",
                "created_at": now - timedelta(hours=n),
                "use_count": n,
            }
            for n in range(20)
        ],
        table_of(Notification): [
            {
                "order_id": 1,
                "idempotency_key": f"bench:{n}",
                "kind": "status_update",
                "channel": "email",
                "milestone": "in_transit",
                "event_seq": 1,
                "facts": "{}",
                "recipient": "ada@example.com",
                "locale": "en",
                "state": "sent",
                "subject": "Your order is on its way",
                "body": BODY,
                "attempts": 1,
                "errors": "[]",
                "created_at": now - timedelta(minutes=n),
                "due_at": now - timedelta(minutes=n),
                "sent_at": now - timedelta(minutes=n),
            }
            for n in range(notes)
        ],
        table_of(Interaction): [
            {
                "order_id": 1,
                "channel": "phone",
                "direction": "inbound",
                "outcome": "answered",
                "action": "logged",
                "summary": "Asked where the parcel is",
                "staff": "agent@example.com",
                "occurred_at": now - timedelta(minutes=n),
                "recorded_at": now - timedelta(minutes=n),
            }
            for n in range(50)
        ],
    }


async def run(url: str, events: int, notes: int, rounds: int) -> None:
    db = Database(url, pool_size=2)
    await db.migrate()
    now = datetime.now(UTC)
    async with db.write() as session:
        for table, rows in _rows(now, events, notes).items():
            await session.execute(table.insert(), rows)
    renderer = ScreenRenderer(make_environment())
    with tuned_collector():
        reads, renders, size = await _rounds(db, renderer, now, rounds)
    live = await _checkpoint_frame(db, renderer, now, events)
    await db.dispose()
    total = [a + b for a, b in zip(reads, renders, strict=True)]
    for name, values in (("read", reads), ("render", renders), ("total", total)):
        cuts = statistics.quantiles(values, n=100)
        print(f"{name:>6}: p50 {statistics.median(values):6.1f} ms   p99 {cuts[98]:6.1f} ms")
    print(f" frame: {size / 1024:.0f} KiB whole ({events} events, {notes} notifications)")
    print(f"  live: {live} bytes for one more checkpoint (only what changed)")


async def _rounds(
    db: Database, renderer: ScreenRenderer, now: datetime, rounds: int
) -> tuple[list[float], list[float], int]:
    reads: list[float] = []
    renders: list[float] = []
    size = 0
    for _ in range(rounds):
        started = time.perf_counter()
        async with db.engine.connect() as connection:
            screen = await read_screen_view(connection, NUMBER)
        read = time.perf_counter()
        assert screen is not None
        frame = renderer.frame(screen, now, [])
        done = time.perf_counter()
        reads.append((read - started) * 1000)
        renders.append((done - read) * 1000)
        size = len(frame.encode())
    return reads, renders, size


async def _checkpoint_frame(db: Database, renderer: ScreenRenderer, now: datetime, seq: int) -> int:
    """The size of the live frame an open screen gets for one more carrier checkpoint."""
    frames = ScreenFrames(renderer)
    async with db.engine.connect() as connection:
        screen = await read_screen_view(connection, NUMBER)
    assert screen is not None
    frames.whole(NUMBER, screen, now, [], snapshot=True)
    row = {**_rows(now, seq + 1, 0)[table_of(OrderEvent)][-1], "message": "With the driver"}
    async with db.write() as session:
        await session.execute(table_of(OrderEvent).insert(), [row])
        await session.execute(table_of(Order).update().values(last_seq=seq + 1))
    async with db.engine.connect() as connection:
        screen = await read_screen_view(connection, NUMBER)
    assert screen is not None
    live = frames.changes(NUMBER, screen, now, [], EVERYTHING)
    assert live is not None
    return len(live.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="a database URL (default: SQLite in a temp folder)")
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--notifications", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite+aiosqlite:///{folder}/bench.db"
        asyncio.run(run(url, args.events, args.notifications, args.rounds))


if __name__ == "__main__":
    main()
