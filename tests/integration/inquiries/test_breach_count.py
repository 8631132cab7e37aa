"""``portal_sla_breaches_total`` counts every recorded breach once, whichever path recorded it:
a message or a priority raise that finds a target already due records the breach inline, and the
watcher coming later finds it recorded and counts nothing more."""

from __future__ import annotations

import re

from tests.integration.inquiries.conftest import Desk


async def breaches_counted(desk: Desk, target: str) -> float:
    text = (await desk.client.get("/metrics")).text
    found = re.search(rf'^portal_sla_breaches_total\{{target="{target}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_a_reply_after_the_due_time_counts_its_breach_once(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"], priority="urgent")  # 30 minutes
    desk.clock.advance(minutes=31)
    answered = await desk.reply(opened["id"], "Told them on the phone.", via="phone")
    assert answered["targets"]["first_response"]["state"] == "breached"
    assert len(await desk.events(opened["id"], "breach")) == 1
    assert await breaches_counted(desk, "first_response") == 1.0
    # The watcher wakes for the same due time: already recorded, not counted again.
    watcher = desk.portal.runtime.breach_watcher
    await watcher.load()
    assert await watcher.record_due([opened["id"]], desk.clock()) == 0
    assert await breaches_counted(desk, "first_response") == 1.0


async def test_a_priority_raise_that_breaches_at_once_counts_it(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"])  # normal: 240 minutes
    desk.clock.advance(minutes=90)  # high allows 60: a raise now is a breach already
    await desk.post(
        f"/api/v1/orders/{order['order_number']}/delays",
        {"reason_code": "weather", "message": "Snow closed the depot"},
    )
    raised = await desk.inquiry(opened["id"])
    assert raised["priority"] == "high"
    assert raised["targets"]["first_response"]["state"] == "breached"
    assert len(await desk.events(opened["id"], "breach")) == 1
    assert await breaches_counted(desk, "first_response") == 1.0


async def test_a_customer_message_after_the_due_time_counts_its_breach(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"], priority="urgent")
    desk.clock.advance(minutes=45)
    await desk.post(
        f"/api/v1/inquiries/{opened['id']}/messages",
        {"direction": "inbound", "body": "Hello? Anyone?"},
    )
    assert len(await desk.events(opened["id"], "breach")) == 1
    assert await breaches_counted(desk, "first_response") == 1.0


async def test_a_reply_sent_after_the_due_time_is_counted_by_the_dispatcher(desk: Desk) -> None:
    order = await desk.create_order()
    opened = await desk.ask(order["order_number"], priority="urgent")  # 30 minutes
    desk.clock.advance(minutes=10)
    await desk.reply(opened["id"], "Looking into it now.")  # typed in time, not sent yet
    desk.clock.advance(minutes=25)
    await desk.drain(desk.dispatcher(metrics=desk.portal.runtime.metrics))
    after = await desk.inquiry(opened["id"])
    assert after["targets"]["first_response"]["state"] == "breached"
    assert len(await desk.events(opened["id"], "breach")) == 1
    assert await breaches_counted(desk, "first_response") == 1.0
