"""Inquiries on the order screen (SQLite and PostgreSQL): shown with clocks and messages;
answering (through the outbox), the state buttons and logging a phone call, CSRF-checked."""

from __future__ import annotations

from tests.integration.inquiries.conftest import Desk
from tests.integration.staff_helpers import staff_client


async def test_answer_and_resolve_from_the_order_screen(desk: Desk) -> None:
    order = await desk.create_order()
    number = order["order_number"]
    opened = await desk.ask(number, subject="Neighbour", message="Leave it next door?")
    async with staff_client(desk.portal, role="agent") as agent:
        screen = (await agent.get(f"/support/orders/{number}")).text
        assert 'id="screen-inquiries"' in screen
        assert "Leave it next door?" in screen
        assert f'action="/support/inquiries/{opened["id"]}/reply"' in screen
        assert 'data-target="first_response" data-state="pending"' in screen
        sent = await agent.post_form(
            f"/support/inquiries/{opened['id']}/reply",
            {"body": "Yes, at no. 5.", "via": "outbox", "order_number": number},
        )
        assert sent.status_code == 303
        assert sent.headers["location"].startswith(f"/support/orders/{number}")
        detail = await desk.inquiry(opened["id"])
        assert detail["messages"][-1]["author"] == agent.email
        assert detail["targets"]["first_response"]["state"] == "pending"  # until sent
        await desk.drain()
        assert desk.smtp.with_subject("an answer about your order")
        assert (await desk.inquiry(opened["id"]))["targets"]["first_response"]["state"] == "met"
        done = await agent.post_form(
            f"/support/inquiries/{opened['id']}/state",
            {"state": "resolved", "order_number": number},
        )
        assert done.status_code == 303, done.text
        assert (await desk.inquiry(opened["id"]))["state"] == "resolved"
        bad = await agent.post_form(
            f"/support/inquiries/{opened['id']}/state", {"state": "closed", "order_number": number}
        )
        assert bad.status_code == 422
        no_csrf = await agent.client.post(
            f"/support/inquiries/{opened['id']}/state", data={"state": "open"}
        )
        assert no_csrf.status_code == 403
        assert (await desk.inquiry(opened["id"]))["state"] == "resolved"


async def test_a_phone_call_is_logged_as_an_inquiry(desk: Desk) -> None:
    order = await desk.create_order()
    number = order["order_number"]
    async with staff_client(desk.portal, role="agent") as agent:
        logged = await agent.post_form(
            f"/support/orders/{number}/inquiries",
            {"channel": "phone", "subject": "Call", "message": "Asked to change the address"},
        )
        assert logged.status_code == 303
        listed = (await desk.portal.get("/api/v1/inquiries")).json()["inquiries"]
        assert [(i["channel"], i["subject"]) for i in listed] == [("phone", "Call")]
        answered = await agent.post_form(
            f"/support/inquiries/{listed[0]['id']}/reply",
            {"body": "Told them it is done.", "via": "phone", "order_number": number},
        )
        assert answered.status_code == 303
        detail = await desk.inquiry(listed[0]["id"])
        assert detail["targets"]["first_response"]["state"] == "met"
