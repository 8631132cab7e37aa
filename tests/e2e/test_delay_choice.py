"""A customer picks one of a delay's alternatives; another open page of the order shows it live."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PortalProcess
from tests.e2e.staff_helpers import create_staff_user, sign_in
from tests.e2e.test_live_updates import open_live, same_document

PICKUP = "Collect the parcel from a pickup point"


def delayed_order(server: PortalProcess) -> dict[str, Any]:
    number = "DLY-" + uuid.uuid4().hex[:6].upper()
    order = server.create_order(number)
    base = f"/api/v1/orders/{number}"
    tracking = "JD" + uuid.uuid4().hex[:12].upper()
    assert (
        server.api(
            "POST", base + "/shipments", {"carrier": "dhl", "tracking_number": tracking}
        ).status_code
        == 201
    )
    eta = (datetime.now(UTC).date() + timedelta(days=6)).isoformat()
    delay = server.api(
        "POST",
        base + "/delays",
        {
            "reason_code": "weather",
            "message": "Snow closed the depot",
            "new_estimated_delivery": eta,
            "compensation": "10% refund of shipping",
            "alternatives": ["pickup_point", "cancel"],
        },
    )
    assert delay.status_code == 201, delay.text
    return order


def test_the_customer_picks_a_pickup_point_without_javascript(
    portal_server: PortalProcess, browser: Any, page: Page
) -> None:
    order = delayed_order(portal_server)
    open_live(page, order["tracking_url"])  # a second device of the customer, live
    context = browser.new_context(java_script_enabled=False)
    try:
        plain = context.new_page()
        plain.goto(order["tracking_url"])
        plain.get_by_role("button", name=PICKUP).click()
        expect(plain.get_by_role("status").filter(has_text="we have your choice")).to_be_visible()
        expect(plain.get_by_role("button", name=PICKUP)).to_have_attribute("aria-pressed", "true")
    finally:
        context.close()
    banner = page.locator("#delay-banner")
    expect(banner).to_contain_text(f"Your choice: {PICKUP}")
    expect(page.locator("#timeline")).to_contain_text(
        "You chose: collect the parcel from a pickup point"
    )
    assert same_document(page)  # no reload: it came over the websocket
    number = order["order_number"]
    delay = portal_server.api("GET", f"/api/v1/orders/{number}").json()["delays"][0]
    assert delay["customer_choice"] == "pickup_point"


def test_the_choice_can_be_changed_with_javascript(
    portal_server: PortalProcess, page: Page
) -> None:
    order = delayed_order(portal_server)
    page.goto(order["tracking_url"])
    page.get_by_role("button", name=PICKUP).click()
    expect(page.get_by_role("button", name=PICKUP)).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Cancel the order for a full refund").click()
    expect(page.get_by_role("button", name="Cancel the order for a full refund")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#delay-banner")).to_contain_text("Your choice: Cancel the order")


def test_the_agent_sees_the_choice_live_and_arranges_it(
    portal_server: PortalProcess, browser: Any, page: Page
) -> None:
    order = delayed_order(portal_server)
    number = order["order_number"]
    email = create_staff_user(portal_server, "agent")
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        agent = staff_context.new_page()
        agent.set_default_timeout(10_000)
        sign_in(agent, portal_server, email)
        agent.goto(f"{portal_server.base_url}/support/orders/{number}")
        choice = agent.locator("#screen-delays .delay-choice-staff")
        expect(choice).to_contain_text("The customer has not chosen yet")
        agent.wait_for_timeout(500)  # the screen's socket connects and takes its snapshot
        page.goto(order["tracking_url"])
        page.get_by_role("button", name=PICKUP).click()
        expect(page.get_by_role("button", name=PICKUP)).to_have_attribute("aria-pressed", "true")
        expect(choice).to_contain_text(f"Customer's choice: {PICKUP}")  # live: no reload
        agent.get_by_role("button", name="Arrange this choice").click()
        expect(choice).to_contain_text("being arranged")
        page.reload()
        expect(page.locator("#delay-banner")).to_contain_text("Our team is arranging it")
        expect(page.get_by_role("button", name=PICKUP)).to_have_count(0)
    finally:
        staff_context.close()


def test_the_agents_queue_shows_the_choice_live(
    portal_server: PortalProcess, browser: Any, page: Page
) -> None:
    order = delayed_order(portal_server)
    number = order["order_number"]
    email = create_staff_user(portal_server, "agent")
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        agent = staff_context.new_page()
        agent.set_default_timeout(10_000)
        sign_in(agent, portal_server, email)  # the console home, with the queue
        expect(agent.locator("#queue")).to_be_visible()
        expect(agent.locator("#queue-list")).not_to_contain_text(number)
        agent.evaluate("() => { window.__sameDocument = true; }")
        agent.wait_for_timeout(500)  # the queue's socket connects
        page.goto(order["tracking_url"])
        page.get_by_role("button", name=PICKUP).click()
        expect(page.get_by_role("button", name=PICKUP)).to_have_attribute("aria-pressed", "true")
        row = agent.locator("#queue-list tr.queue-row", has_text=number)
        expect(row).to_contain_text("the customer chose to collect the parcel from a pickup point")
        expect(row).to_contain_text("high")
        assert agent.evaluate("() => window.__sameDocument === true")  # no reload
    finally:
        staff_context.close()
