"""Linking an unmatched inquiry to an order through the API (POST /api/v1/inquiries/{id}/order):
the sender is checked against the order's customer first, a mismatch needs an explicit
confirmation and changes nothing without it, the link is an interaction, the clocks keep
running, and afterwards the inquiry is answered through the outbox like any other."""

from __future__ import annotations

from typing import Any

from portal.services.screen.bell import SCREEN_KIND
from tests.integration.inquiries.conftest import Desk, iso
from tests.integration.staff_helpers import staff_client


async def unmatched(desk: Desk, sender: str) -> dict[str, Any]:
    return await desk.post(
        "/api/v1/inquiries",
        {"message": "Where is my order?", "channel": "email", "customer_email": sender},
    )


async def interactions(desk: Desk, order_number: str) -> list[dict[str, Any]]:
    answer = await desk.portal.get(f"/api/v1/orders/{order_number}/interactions")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["interactions"])


async def test_an_inquiry_from_the_customer_is_linked_and_then_answered(desk: Desk) -> None:
    order = await desk.create_order()
    number = order["order_number"]
    opened = await unmatched(desk, order["customer"]["email"].upper())
    desk.clock.advance(minutes=20)
    linked = await desk.post(
        f"/api/v1/inquiries/{opened['id']}/order", {"order_number": number, "staff": "x@y.z"}
    )
    assert linked["sender_check"] == "matched"
    assert linked["order_number"] == number
    # The clocks keep running from the opening: nothing restarted.
    assert linked["created_at"] == opened["created_at"]
    assert linked["targets"]["first_response"] == opened["targets"]["first_response"]
    logged = await interactions(desk, number)
    summaries = [i["summary"] for i in logged]
    assert any(f"linked to order {number}" in s for s in summaries), summaries
    assert "Where is my order?" in summaries  # the mail itself is now in the order's log too
    # Now it can be answered through the outbox, to the order's customer.
    replied = await desk.reply(opened["id"], "It left the depot this morning.")
    assert replied["messages"][-1]["sent_at"] is None
    await desk.drain()
    mails = desk.smtp.with_subject("an answer about your order")
    assert [str(m["To"]) for m in mails] == [order["customer"]["email"]]
    after = await desk.inquiry(opened["id"])
    assert after["targets"]["first_response"]["state"] == "met"
    assert after["messages"][-1]["sent_at"] == iso(desk.clock())


async def test_another_sender_needs_an_explicit_confirmation(desk: Desk) -> None:
    order = await desk.create_order()
    number = order["order_number"]
    opened = await unmatched(desk, "someone.else@example.net")
    path = f"/api/v1/inquiries/{opened['id']}/order"
    refused = await desk.portal.post(path, {"order_number": number})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "sender_mismatch"
    assert "someone.else@example.net" in error["message"]
    assert number not in refused.text and order["customer"]["email"] not in refused.text
    # Nothing changed.
    assert (await desk.inquiry(opened["id"]))["order_number"] is None
    assert await interactions(desk, number) == []
    confirmed = await desk.post(path, {"order_number": number, "confirm_sender": True})
    assert confirmed["sender_check"] == "confirmed"
    summaries = [i["summary"] for i in await interactions(desk, number)]
    assert any("linked as the agent confirmed" in s for s in summaries), summaries


async def test_a_linked_inquiry_cannot_be_linked_again_and_bad_input_changes_nothing(
    desk: Desk,
) -> None:
    order = await desk.create_order()
    number = order["order_number"]
    opened = await unmatched(desk, order["customer"]["email"])
    path = f"/api/v1/inquiries/{opened['id']}/order"
    assert (await desk.portal.post(path, {"order_number": "NOPE-404"})).status_code == 404
    assert (await desk.portal.post(path, {})).status_code == 422
    assert (await desk.inquiry(opened["id"]))["order_number"] is None
    await desk.post(path, {"order_number": number})
    other = await desk.create_order()
    again = await desk.portal.post(path, {"order_number": other["order_number"]})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_linked"
    assert (await desk.inquiry(opened["id"]))["order_number"] == number
    missing = await desk.portal.post("/api/v1/inquiries/999999/order", {"order_number": number})
    assert missing.status_code == 404


async def test_linking_raises_the_priority_from_the_order(desk: Desk) -> None:
    order = await desk.create_order()
    number = order["order_number"]
    await desk.post(
        f"/api/v1/orders/{number}/delays",
        {"reason_code": "weather", "message": "Snow closed the depot"},
    )
    opened = await unmatched(desk, order["customer"]["email"])
    assert opened["priority"] == "normal"
    linked = await desk.post(f"/api/v1/inquiries/{opened['id']}/order", {"order_number": number})
    assert (linked["priority"], linked["priority_reason"]) == ("high", "open delay")
    # High: 60 minutes from the opening, not from the link.
    assert linked["targets"]["first_response"]["due_at"] == iso(desk.later(60))


async def test_the_console_links_an_unmatched_inquiry_after_checking_the_sender(
    desk: Desk,
) -> None:
    order = await desk.create_order()
    number = order["order_number"]
    opened = await unmatched(desk, "someone.else@example.net")
    async with staff_client(desk.portal, role="agent") as agent:
        queue = await agent.get("/support")
        assert f'href="/support/inquiries/{opened["id"]}"' in queue.text
        page = await agent.get(f"/support/inquiries/{opened['id']}")
        assert page.status_code == 200
        assert 'for="link-order-number">Order number</label>' in page.text
        assert "someone.else@example.net" in page.text
        path = f"/support/inquiries/{opened['id']}/order"
        refused = await agent.post_form(path, {"order_number": number})
        assert refused.status_code == 409
        assert 'role="alert"' in refused.text and "not this order&#39;s customer" in refused.text
        assert order["customer"]["email"] not in refused.text  # nothing of the order shown
        assert (await desk.inquiry(opened["id"]))["order_number"] is None
        linked = await agent.post_form(path, {"order_number": number, "confirm_sender": "yes"})
        assert linked.status_code == 303
        assert (
            linked.headers["location"] == f"/support/orders/{number}#screen-inquiry-{opened['id']}"
        )
        after = await desk.inquiry(opened["id"])
        assert after["order_number"] == number
        logged = await interactions(desk, number)
        assert [i["staff"] for i in logged if "linked" in i["summary"]] == [agent.email]
        # The page of a linked inquiry is the order's screen.
        moved = await agent.get(f"/support/inquiries/{opened['id']}")
        assert moved.status_code == 303
        missing = await agent.get("/support/inquiries/999999")
        assert missing.status_code == 404
        # Without the CSRF token nothing happens.
        other = await unmatched(desk, order["customer"]["email"])
        forged = await agent.client.post(
            f"/support/inquiries/{other['id']}/order", data={"order_number": number}
        )
        assert forged.status_code == 403
        assert (await desk.inquiry(other["id"]))["order_number"] is None


async def test_an_unmatched_inquiry_is_answered_by_phone_and_resolved_on_its_page(
    desk: Desk,
) -> None:
    opened = await unmatched(desk, "nobody.we.know@example.net")
    page = f"/support/inquiries/{opened['id']}"
    async with staff_client(desk.portal, role="agent") as agent:
        answered = await agent.post_form(
            page + "/reply", {"body": "Called back: it was a wrong number.", "via": "phone"}
        )
        assert answered.status_code == 303
        assert answered.headers["location"] == page + "?done=replied"
        shown = await agent.get(answered.headers["location"])
        assert "The answer was recorded." in shown.text
        assert "Called back: it was a wrong number." in shown.text
        resolved = await agent.post_form(page + "/state", {"state": "resolved"})
        assert resolved.headers["location"] == page + "?done=inquiry-state"
    after = await desk.inquiry(opened["id"])
    assert after["state"] == "resolved"
    assert after["targets"]["first_response"]["state"] == "met"
    assert [m["body"] for m in after["messages"] if m["direction"] == "outbound"] == [
        "Called back: it was a wrong number."
    ]


async def test_linking_through_the_api_rings_the_order_screen(
    desk: Desk, rung: list[tuple[str, str]]
) -> None:
    order = await desk.create_order()
    number = order["order_number"]
    opened = await unmatched(desk, order["customer"]["email"])
    rung.clear()
    await desk.post(f"/api/v1/inquiries/{opened['id']}/order", {"order_number": number})
    assert (number, SCREEN_KIND) in rung
