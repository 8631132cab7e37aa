"""The order screen shows everything about an order, to signed-in staff only."""

from __future__ import annotations

from typing import Any

from portal.web.customer_guard import views_counted
from tests.integration.conftest import Portal
from tests.integration.screen.screen_helpers import drain, notifications_of, shipped_order
from tests.integration.staff_helpers import anonymous_client


async def test_the_screen_shows_the_whole_order(portal: Portal, agent: Any) -> None:
    number, tracking, token = await shipped_order(portal)
    delay = await portal.post(
        f"/api/v1/orders/{number}/delays",
        {
            "reason_code": "weather",
            "message": "Snow closed the depot",
            "compensation": "10% refund of shipping",
            "alternatives": ["pickup_point"],
        },
    )
    assert delay.status_code == 201, delay.text
    await drain(portal)
    assert (await portal.client.get(f"/t/{token}")).status_code == 200
    await views_counted()  # a view is counted after its answer

    page = await agent.get(f"/support/orders/{number}")
    assert page.status_code == 200, page.text
    html = page.text
    assert f"Order {number}" in html and "Ada Lovelace" in html and "ada@example.com" in html
    # Shipments with the carrier's link, the timeline with locations.
    assert tracking in html and "dhl.com" in html
    assert "Departed hub" in html and "Leipzig" in html
    # The delay with its offer and the customer's (missing) choice.
    assert "Snow closed the depot" in html and "10% refund of shipping" in html
    assert "Collect the parcel from a pickup point" in html
    assert "The customer has not chosen yet." in html
    # Every notification with channel, recipient, state, attempts and exact content.
    rows = await notifications_of(portal, number)
    assert rows and all(f'id="notification-{row.id}"' in html for row in rows)
    sent_email = next(r for r in rows if r.channel == "email" and r.kind == "delay")
    assert sent_email.state == "sent"
    assert "Snow closed the depot" in sent_email.body
    assert "1 attempt" in html and "+14155552671" in html
    # Links with their use (the visit above), never a token.
    assert 'id="screen-links"' in html and "placement" in html
    assert token not in html
    assert 'Tracking page visits</dt><dd id="screen-visits">1' in html
    assert "No feedback yet." in html
    # The websocket the page connects to.
    assert f'ws-connect="/support/ws/orders/{number}"' in html


async def test_the_screen_needs_a_session(portal: Portal) -> None:
    number, _, token = await shipped_order(portal)
    async with anonymous_client(portal) as client:
        answer = await client.get(f"/support/orders/{number}")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/support/login?next=")
        # A share-link token or an API key does not open the console.
        with_key = await client.get(f"/support/orders/{number}", headers=portal.auth)
        assert with_key.status_code == 303
        with_token = await client.get(f"/support/orders/{number}?token={token}")
        assert with_token.status_code == 303


async def test_an_unknown_order_is_404(portal: Portal, agent: Any) -> None:
    assert (await agent.get("/support/orders/NOPE-404")).status_code == 404
    assert (await agent.get("/support/orders/%25bad")).status_code == 404


async def test_the_customers_choice_and_arranging_it(portal: Portal, agent: Any) -> None:
    from tests.integration.records.test_delay_choice import delayed_order

    order = await delayed_order(portal)
    assert (await order.choose("pickup_point")).status_code == 303
    page = (await agent.get(f"/support/orders/{order.number}")).text
    assert "Customer's choice: Collect the parcel from a pickup point" in page
    assert f"/delays/{order.delay_id}/choice/handled" in page
    arranged = await agent.post_form(
        f"/support/orders/{order.number}/delays/{order.delay_id}/choice/handled", {}
    )
    assert arranged.status_code == 303
    page = (await agent.get(f"/support/orders/{order.number}")).text
    assert "being arranged" in page and "/choice/handled" not in page
