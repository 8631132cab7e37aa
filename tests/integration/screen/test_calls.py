"""Call tasks: a phone delay notice becomes one; /support/calls lists it due first with the
customer's phone, local time and script; completing or rescheduling it is logged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.models_screen import CallTask
from tests.integration.conftest import Portal
from tests.integration.screen.screen_helpers import crm_of, drain, order_row, shipped_order


async def _phone_delay(portal: Portal) -> tuple[str, CallTask]:
    number, _, _ = await shipped_order(portal)
    answer = await portal.post(
        f"/api/v1/orders/{number}/delays",
        {"reason_code": "weather", "message": "Snow closed the depot"},
    )
    assert answer.status_code == 201
    await drain(portal)
    async with portal.runtime.db.read() as session:
        [task] = (await session.execute(select(CallTask))).scalars().all()
    return number, task


async def test_a_phone_delay_notice_is_a_call_task(portal: Portal, agent: Any) -> None:
    number, task = await _phone_delay(portal)
    assert task.reason == "delay_notice" and task.phone == "+14155552671"
    assert number in task.script and task.state == "open" and task.notification_id is not None
    page = await agent.get("/support/calls")
    assert page.status_code == 200
    assert f'id="call-{task.id}"' in page.text and 'href="tel:+14155552671"' in page.text
    assert "Customer's local time" in page.text and "Snow" in page.text
    order = await order_row(portal, number)
    local = portal.clock().astimezone(ZoneInfo(order.timezone)).strftime("%H:%M")
    assert local in page.text
    home = (await agent.get("/support")).text
    assert 'id="calls-due"' in home and number in home.split('id="calls-due"')[1]
    # The inquiry queue first, then the calls due.
    assert home.index('id="queue"') < home.index('id="calls-due"')


async def test_an_unreached_customer_is_called_again_later(portal: Portal, agent: Any) -> None:
    number, task = await _phone_delay(portal)
    order = await order_row(portal, number)
    later = portal.clock() + timedelta(hours=2)
    local = later.astimezone(ZoneInfo(order.timezone)).strftime("%Y-%m-%dT%H:%M")
    path = f"/support/calls/{task.id}/complete"
    answer = await agent.post_form(
        path, {"outcome": "no_answer", "note": "Rang out", "reschedule_at": local}
    )
    assert answer.status_code == 303, answer.text
    async with portal.runtime.db.read() as session:
        again = await session.get(CallTask, task.id)
    assert again is not None and again.state == "open" and again.attempts == 1
    assert abs((again.due_at - later.replace(second=0)).total_seconds()) < 60
    # Not due any more: off the home page's list, still on the calls page.
    assert 'id="calls-due"' in (home := (await agent.get("/support")).text)
    assert number not in home.split('id="calls-due"')[1]

    refused = await agent.post_form(path, {"outcome": "answered", "reschedule_at": local})
    assert refused.status_code == 422 and "rescheduled" in refused.text
    done = await agent.post_form(
        path, {"outcome": "answered", "note": "Customer will wait", "duration_s": "90"}
    )
    assert done.status_code == 303
    async with portal.runtime.db.read() as session:
        closed = await session.get(CallTask, task.id)
    assert closed is not None and closed.state == "done" and closed.completed_by == agent.email
    log = await crm_of(portal, number)
    assert [(e.action, e.outcome, e.channel) for e in log] == [
        ("call_completed", "no_answer", "phone"),
        ("call_completed", "answered", "phone"),
    ]
    assert log[1].duration_s == 90 and log[1].summary == "Customer will wait"
    assert "No calls to make." in (await agent.get("/support/calls")).text
    twice = await agent.post_form(path, {"outcome": "answered"})
    assert twice.status_code == 409
