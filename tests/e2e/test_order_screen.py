"""The order screen in Chromium: live without reload, and each of its actions, one per flow."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PortalProcess
from tests.e2e.staff_helpers import create_staff_user, sign_in
from tests.integration.notifications.conftest import zone_at_local_hour

MARK_DOCUMENT = "() => { window.__sameDocument = true; }"


def new_number() -> str:
    return "SCR-" + uuid.uuid4().hex[:6].upper()


def shipped(server: PortalProcess) -> tuple[str, str, str]:
    """An order with a DHL shipment, its customer at midday; (number, tracking, tracking URL)."""
    number = new_number()
    customer = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+14155552671",
        "timezone": zone_at_local_hour(datetime.now(UTC), 12),
    }
    created = server.create_order(number, customer=customer)
    tracking = "JD" + uuid.uuid4().hex[:12].upper()
    eta = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    answer = server.api(
        "POST",
        f"/api/v1/orders/{number}/shipments",
        {"carrier": "dhl", "tracking_number": tracking, "estimated_delivery": eta},
    )
    assert answer.status_code == 201, answer.text
    return number, tracking, created["tracking_url"]


def open_screen(page: Page, server: PortalProcess, number: str) -> None:
    sign_in(page, server, create_staff_user(server, "agent"))
    page.goto(f"{server.base_url}/support/orders/{number}")
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    page.evaluate(MARK_DOCUMENT)


def still_same_document(page: Page) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def test_a_carrier_webhook_appears_without_reload(page: Page, portal_server: PortalProcess) -> None:
    number, tracking, _ = shipped(portal_server)
    open_screen(page, portal_server, number)
    portal_server.carrier_event(tracking, "out_for_delivery", "With the driver in Leipzig")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("With the driver in Leipzig")
    expect(timeline).to_contain_text("Leipzig")
    expect(page.locator("#order-status")).to_contain_text("Out for delivery")
    assert still_same_document(page)


def test_open_a_delay_with_preview_and_the_customer_sees_it_live(
    page: Page, browser: Any, portal_server: PortalProcess
) -> None:
    number, _, tracking_url = shipped(portal_server)
    customer_context = browser.new_context()
    try:
        customer = customer_context.new_page()
        customer.goto(tracking_url)
        expect(customer.locator("#live-indicator")).to_have_attribute("data-state", "connected")
        open_screen(page, portal_server, number)
        page.get_by_label("Reason").select_option("weather")
        page.get_by_label("Message to the customer").fill("Snow closed the depot")
        page.get_by_label("Compensation offered (optional)").fill("Free shipping next time")
        page.get_by_label("Collect the parcel from a pickup point").check()
        page.get_by_role("button", name="Preview the notices").click()
        preview = page.locator("#delay-preview")
        expect(preview).to_contain_text("What the customer will get")
        expect(preview).to_contain_text("passes the check, will be sent")
        expect(preview).to_contain_text("Free shipping next time")
        # Nothing was sent by the preview.
        expect(customer.locator("#delay-banner")).not_to_contain_text("delayed")
        assert portal_server.api("GET", f"/api/v1/orders/{number}").json()["delays"] == []
        page.get_by_role("button", name="Send the delay notices").click()
        expect(preview).to_contain_text("The delay was opened")
        expect(customer.locator("#delay-banner")).to_contain_text("Your order is delayed")
        expect(customer.locator("#delay-banner")).to_contain_text("Snow closed the depot")
        expect(page.locator("#screen-delays")).to_contain_text("Free shipping next time")
        assert still_same_document(page)
    finally:
        customer_context.close()


def test_revoke_a_link_and_the_customer_page_goes_offline(
    page: Page, browser: Any, portal_server: PortalProcess
) -> None:
    number, _, tracking_url = shipped(portal_server)
    links = portal_server.api("GET", f"/api/v1/orders/{number}/links").json()["links"]
    placement = next(link for link in links if link["created_by"] == "placement")
    customer_context = browser.new_context()
    try:
        customer = customer_context.new_page()
        customer.goto(tracking_url)
        expect(customer.locator("#live-indicator")).to_have_attribute("data-state", "connected")
        open_screen(page, portal_server, number)
        page.get_by_role("button", name=f"Revoke link {placement['id']}").click()
        expect(page.locator(f"#link-{placement['id']}")).to_contain_text("revoked")
        started = time.monotonic()
        expect(customer.locator("#live-indicator")).to_have_attribute(
            "data-state", "offline", timeout=15_000
        )
        assert time.monotonic() - started < 15
        answer = customer.goto(tracking_url)
        assert answer is not None and answer.status == 404
        expect(customer.locator("body")).to_contain_text("no longer valid")
    finally:
        customer_context.close()


def test_log_a_phone_call_and_see_it_in_the_log(page: Page, portal_server: PortalProcess) -> None:
    number, _, _ = shipped(portal_server)
    open_screen(page, portal_server, number)
    page.get_by_label("Channel", exact=True).select_option("phone")
    page.get_by_label("Direction").select_option("inbound")
    page.get_by_label("Outcome").select_option("answered")
    page.get_by_label("Summary").fill("Customer asked whether the mug is wrapped")
    page.get_by_label("Duration in seconds (optional)").fill("95")
    page.get_by_role("button", name="Log it").click()
    expect(page.locator("#log-result")).to_contain_text("The interaction was logged.")
    log = page.locator("#crm-log")
    expect(log).to_contain_text("Customer asked whether the mug is wrapped")
    expect(log).to_contain_text("1 min 35 s")
    expect(page.get_by_label("Summary")).to_have_value("")
    assert still_same_document(page)


def test_complete_a_call_task(page: Page, portal_server: PortalProcess) -> None:
    number, _, _ = shipped(portal_server)
    answer = portal_server.api(
        "POST",
        f"/api/v1/orders/{number}/delays",
        {"reason_code": "weather", "message": "Snow closed the depot"},
    )
    assert answer.status_code == 201, answer.text
    sign_in(page, portal_server, create_staff_user(portal_server, "agent"))
    # The server's dispatcher turns the phone notice into a call task within moments.
    deadline = time.monotonic() + 20
    task = page.locator("section.call-task", has_text=number)
    while True:
        page.goto(portal_server.base_url + "/support/calls")
        if task.count():
            break
        assert time.monotonic() < deadline, "no call task appeared"
        time.sleep(0.3)
    expect(task).to_contain_text("+14155552671")
    expect(task).to_contain_text("Customer's local time")
    task.get_by_label("Outcome").select_option("answered")
    task.get_by_label("Note").fill("Customer is happy to wait")
    task.get_by_role("button", name="Record the call").click()
    expect(page.get_by_text("The call was recorded.")).to_be_visible()
    expect(page.locator("section.call-task", has_text=number)).to_have_count(0)
    page.goto(f"{portal_server.base_url}/support/orders/{number}")
    expect(page.locator("#crm-log")).to_contain_text("Customer is happy to wait")


def test_the_order_screen_passes_axe(page: Page, portal_server: PortalProcess) -> None:
    from tests.e2e.axe import assert_no_serious_axe_violations

    number, tracking, _ = shipped(portal_server)
    portal_server.carrier_event(tracking, "in_transit", "Departed hub")
    answer = portal_server.api(
        "POST",
        f"/api/v1/orders/{number}/delays",
        {
            "reason_code": "weather",
            "message": "Snow closed the depot",
            "compensation": "Free shipping",
            "alternatives": ["pickup_point"],
        },
    )
    assert answer.status_code == 201
    portal_server.api(
        "POST",
        f"/api/v1/orders/{number}/interactions",
        {"channel": "phone", "direction": "inbound", "outcome": "answered", "summary": "Hello"},
    )
    open_screen(page, portal_server, number)
    page.locator("details.notification").first.evaluate("(d) => { d.open = true; }")
    assert_no_serious_axe_violations(page)
    # With a delay preview and a new link on show too.
    page.get_by_label("Message to the customer").fill("Still snowing")
    page.get_by_role("button", name="Preview the notices").click()
    expect(page.locator("#delay-preview")).to_contain_text("What the customer will get")
    page.get_by_role("button", name="Create link").click()
    expect(page.locator("#new-link")).to_contain_text("shown only now")
    assert_no_serious_axe_violations(page)
    page.goto(portal_server.base_url + "/support/calls")
    assert_no_serious_axe_violations(page)
