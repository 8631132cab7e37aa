"""The scheduled audit: one run per interval across processes; findings kept and resolved."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from portal.app import create_app
from portal.db import Database
from portal.models_records import AuditFinding, ScheduledRun
from portal.services import leases
from portal.services.audit_findings import JOB, AuditSchedule
from portal.settings import Settings
from tests.integration.conftest import FrozenClock, Portal, migrated
from tests.integration.notifications.conftest import PHONE, Harness

INTERVAL = timedelta(seconds=60)


async def _run_row(db: Database) -> ScheduledRun | None:
    async with db.read() as session:
        return await session.get(ScheduledRun, JOB)


async def test_the_lease_lets_one_of_two_runners_start(
    settings: Settings, clock: FrozenClock
) -> None:
    await migrated(settings.database_url)
    one, two = Database(settings.database_url), Database(settings.database_url)
    try:

        async def attempt(db: Database, holder: str) -> bool:
            return await leases.try_start(
                db, "job", holder, interval=INTERVAL, lease=timedelta(minutes=5), now=clock()
            )

        tries = [attempt(db, name) for _ in range(6) for db, name in ((one, "a"), (two, "b"))]
        started = await asyncio.gather(*tries)
        assert started.count(True) == 1
        winner = "a" if started.index(True) % 2 == 0 else "b"
        await leases.finish(one if winner == "a" else two, "job", winner, now=clock(), result="ok")
        clock.advance(seconds=30)  # finished, but not due again yet
        assert not any(await asyncio.gather(attempt(one, "a"), attempt(two, "b")))
        clock.advance(seconds=31)
        assert (await asyncio.gather(attempt(one, "a"), attempt(two, "b"))).count(True) == 1
        async with one.read() as session:
            row = await session.get(ScheduledRun, "job")
        assert row is not None and row.runs == 2
        # The second holder "dies" without finishing: nobody runs until its lease runs out.
        clock.advance(minutes=2)
        assert not await attempt(one, "c")
        clock.advance(minutes=4)
        assert await attempt(two, "d")
    finally:
        await one.dispose()
        await two.dispose()


async def test_two_servers_run_the_audit_once_per_interval(
    settings: Settings, clock: FrozenClock
) -> None:
    await migrated(settings.database_url)
    fast = replace(settings, audit_interval=0.2)  # each server checks every 0.05 s
    apps = [create_app(fast, clock=clock, dispatcher=False) for _ in range(2)]
    async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]):
        db = apps[0].state.runtime.db
        row = await _finished_run(db, 1)
        await asyncio.sleep(0.5)  # many more checks by both; the frozen clock allows no more
        row = await _run_row(db)
        assert row is not None and row.runs == 1 and row.last_finished_at == clock()
        clock.advance(seconds=1)
        await _finished_run(db, 2)
        await asyncio.sleep(0.5)
        row = await _run_row(db)
        assert row is not None and row.runs == 2
        assert row.last_result == "0 found: 0 new, 0 resolved"


async def _finished_run(db: Database, runs: int) -> ScheduledRun:
    """Wait (up to 10 s: the machine may be busy) until run number ``runs`` has finished."""
    for _ in range(200):
        row = await _run_row(db)
        if row is not None and row.runs >= runs and row.lease_until is None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {runs} did not finish")


async def _findings(db: Database) -> list[AuditFinding]:
    async with db.read() as session:
        return list(
            (await session.execute(select(AuditFinding).order_by(AuditFinding.id))).scalars()
        )  # type: ignore[arg-type]


async def test_findings_keep_first_and_last_seen_and_are_resolved_when_fixed(
    harness: Harness,
) -> None:
    runtime = harness.portal.runtime
    schedule = AuditSchedule(runtime, INTERVAL.total_seconds())
    order = await harness.create_order(phone=None)
    harness.clock.advance(hours=2)  # the confirmation was never sent: overdue
    first_run = harness.clock()
    assert await schedule.tick()
    [finding] = await _findings(runtime.db)
    assert finding.order_number == order["order_number"]
    assert finding.problem.startswith("order_confirmation by email overdue since")
    assert finding.first_seen_at == finding.last_seen_at == first_run
    assert finding.resolved_at is None and finding.order_id is not None
    assert "portal_audit_findings 1.0" in (await harness.client.get("/metrics")).text

    assert not await schedule.tick()  # not due again yet
    harness.clock.advance(seconds=61)
    assert await schedule.tick()
    [finding] = await _findings(runtime.db)
    assert finding.first_seen_at == first_run and finding.last_seen_at == harness.clock()

    await harness.drain()  # the notice goes out: fixed
    harness.clock.advance(seconds=61)
    assert await schedule.tick()
    [finding] = await _findings(runtime.db)
    assert finding.resolved_at == harness.clock() and finding.first_seen_at == first_run
    assert "portal_audit_findings 0.0" in (await harness.client.get("/metrics")).text


async def test_a_problem_that_returns_is_a_new_finding(harness: Harness) -> None:
    runtime = harness.portal.runtime
    schedule = AuditSchedule(runtime, INTERVAL.total_seconds())
    await harness.create_order(phone=PHONE)
    harness.clock.advance(hours=2)
    assert await schedule.tick()
    opened = await _findings(runtime.db)
    assert len(opened) == 2  # email and SMS confirmations overdue
    await harness.drain()
    harness.clock.advance(seconds=61)
    assert await schedule.tick()
    assert all(f.resolved_at is not None for f in await _findings(runtime.db))


async def test_the_console_lists_findings_with_links(portal: Portal, agent: Any) -> None:
    # Mid-morning, whatever the hour of the run: in the evening the SMS would wait for the end of
    # the customer's quiet hours and not be overdue two hours later.
    portal.clock.now = portal.clock.now.replace(hour=10, minute=0)
    order = await portal.create_order()
    portal.clock.advance(hours=2)
    assert await AuditSchedule(portal.runtime, 60).tick()
    page = await agent.get("/support/audit")
    assert page.status_code == 200, page.text
    number = order["order_number"]
    assert f'href="/support/orders/{number}"' in page.text
    assert "overdue since" in page.text and "Open findings (2)" in page.text
    anonymous = await portal.client.get("/support/audit", follow_redirects=False)
    assert anonymous.status_code == 303


async def test_the_audit_reads_orders_in_batches_and_misses_none(harness: Harness) -> None:
    from portal.services.audit import audit_all

    numbers = [(await harness.create_order(phone=None))["order_number"] for _ in range(5)]
    harness.clock.advance(hours=2)
    db, rules = harness.portal.runtime.db, harness.portal.runtime.notifier.rules
    in_twos = await audit_all(db, rules, harness.clock(), batch=2)
    assert [f["order_number"] for f in in_twos] == numbers
    assert in_twos == await audit_all(db, rules, harness.clock())
