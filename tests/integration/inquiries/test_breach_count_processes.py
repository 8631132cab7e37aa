"""Breaches recorded by a process that serves no /metrics (`portal mail-in`, a separate
`portal dispatch`) are counted in a server's ``portal_sla_breaches_total``: left uncounted by
the recording process, claimed by a server's watcher round, once across servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from portal.mail_in import start_mail_in
from portal.metrics import Metrics
from portal.services.inquiry_watch import count_breaches
from tests.eventually import eventually
from tests.integration.inquiries.conftest import Desk
from tests.integration.inquiries.test_breach_count import breaches_counted
from tests.integration.inquiries.test_mail_in import mail, send


@pytest.fixture
async def mail_in_port(desk: Desk) -> AsyncIterator[int]:
    server, _, close = await start_mail_in(desk.settings, "127.0.0.1", 0, clock=desk.clock)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        await close()


async def _a_watcher_round_counts(desk: Desk, expected: float) -> None:
    """The server's breach watcher, run as the app runs it (a round at start)."""
    task = asyncio.create_task(desk.portal.runtime.breach_watcher.run())
    try:
        await eventually(lambda: _counted_is(desk, expected))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _counted_is(desk: Desk, expected: float) -> bool:
    return await breaches_counted(desk, "first_response") == expected


async def test_a_breach_recorded_by_mail_in_is_counted_once_by_a_server(
    desk: Desk, mail_in_port: int
) -> None:
    order = await desk.create_order()
    number = order["order_number"]
    opened = await desk.ask(number, priority="urgent")  # 30 minutes
    desk.clock.advance(minutes=45)
    late = mail("ada@example.com", "support@shop.example", f"Order {number}", "Hello? Anyone?")
    await send(mail_in_port, late, "ada@example.com", "support@shop.example")
    assert len(await desk.events(opened["id"], "breach")) == 1  # recorded by mail-in
    assert await breaches_counted(desk, "first_response") == 0.0
    await _a_watcher_round_counts(desk, 1.0)
    # Another server claiming now finds nothing left: the breach is counted once in all.
    assert await count_breaches(desk.portal.runtime.db, Metrics()) == []
    await _a_watcher_round_counts(desk, 1.0)


async def test_a_late_reply_sent_by_a_separate_dispatcher_is_counted_by_a_server(
    desk: Desk,
) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"], priority="urgent")
    await desk.reply(opened["id"], "Looking into it now.")  # typed in time, not sent yet
    desk.clock.advance(minutes=35)
    await desk.drain(desk.dispatcher())  # `portal dispatch`: no metrics of its own
    assert len(await desk.events(opened["id"], "breach")) == 1
    assert await breaches_counted(desk, "first_response") == 0.0
    await _a_watcher_round_counts(desk, 1.0)
