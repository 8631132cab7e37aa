"""SIGTERM drains in-flight webhooks: each is answered (and its receipt kept), none is cut."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

from tests.integration.live.conftest import SpawnPortal
from tests.integration.live.helpers import number


async def test_in_flight_webhooks_are_answered_after_sigterm(
    spawn_portal: SpawnPortal, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    process, api = await spawn_portal(instance)
    order_number, _ = await api.create_order()
    tracking = number("JD")
    await api.shipment(order_number, tracking)

    # Another writer holds the database, so the webhooks are in flight when SIGTERM comes.
    blocker = sqlite3.connect(instance / "portal.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    sends = [
        asyncio.create_task(api.carrier_event(tracking, "in_transit", f"Scan {n}"))
        for n in range(3)
    ]
    await asyncio.sleep(1.0)
    assert not any(task.done() for task in sends)
    assert process.process is not None
    process.process.send_signal(signal.SIGTERM)
    await asyncio.sleep(0.5)
    blocker.execute("ROLLBACK")
    blocker.close()

    await asyncio.wait_for(asyncio.gather(*sends), 10)  # each answered 200, none cut
    code = await asyncio.to_thread(process.process.wait, 15)
    assert code in (0, -signal.SIGTERM)
    with sqlite3.connect(instance / "portal.db") as db:
        receipts = db.execute("SELECT count(*) FROM webhook_receipts").fetchone()[0]
        scans = db.execute(
            "SELECT count(*) FROM order_events WHERE message LIKE 'Scan %'"
        ).fetchone()[0]
    assert receipts == 3 and scans == 3
