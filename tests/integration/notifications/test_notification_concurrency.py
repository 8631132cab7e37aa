"""Several dispatcher processes on PostgreSQL: every due notice is sent exactly once."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import insert

from portal.models import Notification
from tests.integration.notifications.conftest import Harness, dispatch_env

ROWS = 1_000
PROCESSES = 4
REPO = Path(__file__).resolve().parents[3]


async def _copies(harness: Harness, count: int) -> int:
    """`count` due email notices: copies of one order's confirmation, each with its own key."""
    order = await harness.create_order(phone=None)
    [row] = await harness.rows(order["order_number"])
    template = row.model_dump(exclude={"id"})
    copies = [
        {**template, "idempotency_key": f"{row.idempotency_key}:copy-{n}"} for n in range(count - 1)
    ]
    async with harness.portal.runtime.db.write() as session:
        await session.execute(insert(Notification), copies)
    return count


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_four_dispatch_processes_send_each_notice_once(harness: Harness) -> None:
    total = await _copies(harness, ROWS)
    env = dispatch_env(harness)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "portal",
            "dispatch",
            "--once",
            cwd=REPO,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(PROCESSES)
    ]
    try:
        outputs = await asyncio.wait_for(
            asyncio.gather(*(p.communicate() for p in processes)), timeout=240
        )
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()[-2000:]

    # `--once` may stop while another process still holds rows; run until nothing is left.
    await harness.drain()

    received = harness.smtp.message_ids()
    assert len(received) == total
    assert set(received.values()) == {1}, received.most_common(3)
    rows = await harness.rows()
    assert len(rows) == total
    assert Counter(r.state for r in rows) == {"sent": total}
    assert {r.attempts for r in rows} == {1}
    assert {r.provider_id for r in rows} == set(received)
    workers = Counter(r.claimed_by for r in rows)
    print(f"rows per dispatcher: {sorted(workers.values())}")
