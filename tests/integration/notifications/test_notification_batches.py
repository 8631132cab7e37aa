"""Dispatching in groups: few statements per group, the gate and the claims still per row,
and a dropped SMTP connection costs no notice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, update
from sqlmodel import col

from portal.models import Notification
from portal.notify.channels import Channels
from tests.integration.notifications.conftest import EMAIL_FROM, Harness
from tests.integration.notify.test_notify_email_pool import Flaky, flaky_server


@contextmanager
def statements(harness: Harness) -> Iterator[list[str]]:
    """The SQL statements the portal's engines run inside the block."""
    db = harness.portal.runtime.db
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    engines = {id(e): e for e in (db.engine, db.write_engine)}.values()
    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_group_is_checked_and_recorded_with_a_few_statements(harness: Harness) -> None:
    for _ in range(6):  # 12 notices: email and SMS for six orders
        await harness.create_order()
    dispatcher = harness.dispatcher(batch=64, concurrency=16)
    with statements(harness) as seen:
        assert await dispatcher.run_once() == 12
    rows = await harness.rows()
    assert {r.state for r in rows} == {"sent"}
    assert len(harness.smtp.messages) == 6 and len(harness.sms.received) == 6
    # claim: SELECT + UPDATE; recheck: claims, orders, shipments; record: one UPDATE.
    # (SQLite adds BEGIN statements of its own; none of it grows with the group.)
    work = [s for s in seen if s in {"SELECT", "UPDATE", "INSERT", "DELETE"}]
    assert work == ["SELECT", "UPDATE", "SELECT", "SELECT", "SELECT", "UPDATE"], seen


async def test_one_row_changed_under_a_group_is_held_back_alone(harness: Harness) -> None:
    orders = [await harness.create_order(phone=None) for _ in range(4)]
    dispatcher = harness.dispatcher()
    claimed = await dispatcher.claim()
    assert len(claimed) == 4
    # Between the claim and the send: one order is cancelled, one row is taken by another.
    cancelled = orders[0]["order_number"]
    await harness.post(f"/api/v1/orders/{cancelled}/status", {"status": "cancelled"})
    [cancelled_row] = [r for r in claimed if r.idempotency_key.startswith(cancelled)]
    taken = next(r for r in claimed if r.order_id != cancelled_row.order_id)
    async with harness.portal.runtime.db.write() as session:
        await session.execute(
            update(Notification)
            .where(col(Notification.id) == taken.id)
            .values(claimed_by="someone-else")
        )
    await dispatcher.deliver_group(claimed)

    rows = {r.id: r for r in await harness.rows()}
    assert rows[cancelled_row.id].state == "superseded"
    assert (rows[taken.id].state, rows[taken.id].claimed_by) == ("sending", "someone-else")
    others = [r for r in claimed if r.id not in {cancelled_row.id, taken.id}]
    assert {rows[r.id].state for r in others} == {"sent"}
    sent_ids = {rows[r.id].provider_id for r in others}
    # The cancellation itself writes a notice; none of the group's other rows went twice.
    assert sent_ids <= set(harness.smtp.message_ids())
    assert len(harness.smtp.message_ids()) == len(others)


async def test_a_dropped_smtp_connection_mid_batch_loses_no_notice(harness: Harness) -> None:
    # The server drops a kept connection between two messages (the next goes on a fresh
    # connection at once) and another in the middle of a DATA (that row is retried later,
    # with its Message-ID, and sent).
    numbers = [(await harness.create_order(phone=None))["order_number"] for _ in range(10)]
    flaky = Flaky(drop_before_mail={3}, drop_in_data={6})
    async with flaky_server(flaky) as port:
        channels = Channels.build(
            f"smtp://127.0.0.1:{port}",
            None,
            None,
            harness.settings.instance_dir,
            EMAIL_FROM,
            "+15005550006",
            smtp_connections=2,
        )
        async with channels:
            dispatcher = harness.dispatcher(channels=channels, concurrency=4)
            assert await harness.drain(dispatcher) == 10
            rows = await harness.rows()
            failed = [r for r in rows if r.state == "failed"]
            assert len(failed) == 1 and failed[0].attempts == 1
            assert "SMTP 127.0.0.1" in json.loads(failed[0].errors)[0]["error"]
            assert {r.state for r in rows if r.id != failed[0].id} == {"sent"}
            assert {r.attempts for r in rows if r.id != failed[0].id} == {1}

            harness.clock.advance(seconds=dispatcher.policy.base_seconds)
            assert await harness.drain(dispatcher) == 1
    rows = await harness.rows()
    assert len(rows) == len(numbers)
    assert {r.state for r in rows} == {"sent"}
    retried = next(r for r in rows if r.id == failed[0].id)
    assert retried.attempts == 2
    assert sorted(flaky.accepted) == sorted(r.provider_id for r in rows)
    assert flaky.connections >= 3
