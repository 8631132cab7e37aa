"""A customer's browser: the tracking page, the feedback form, the lookup form."""

from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import PortalProcess


def number() -> str:
    return "E2E-" + uuid.uuid4().hex[:6].upper()


def test_customer_sees_the_order(portal_server: PortalProcess, page: object) -> None:
    order = portal_server.create_order(number())
    page.goto(order["tracking_url"])  # type: ignore[attr-defined]
    expect(page.get_by_role("heading", name=f"Order {order['order_number']}")).to_be_visible()  # type: ignore[attr-defined]
    expect(page.locator(".items")).to_contain_text("Blue mug")  # type: ignore[attr-defined]
    expect(page.locator(".badge").first).to_have_text("Order placed")  # type: ignore[attr-defined]
    expect(page.locator("#timeline li")).to_have_count(1)  # type: ignore[attr-defined]
    expect(page.get_by_text("a***@example.com", exact=False)).to_be_visible()  # type: ignore[attr-defined]
    token = order["tracking_url"].rsplit("/", 1)[1]
    log = portal_server.log.read_text()
    assert "/t/<token>" in log and token not in log


def test_feedback_form_on_a_delivered_order(portal_server: PortalProcess, page: object) -> None:
    order = portal_server.create_order(number())
    tracking = "JD" + uuid.uuid4().hex[:10].upper()
    answer = portal_server.api(
        "POST",
        f"/api/v1/orders/{order['order_number']}/shipments",
        {"carrier": "dhl", "tracking_number": tracking},
    )
    assert answer.status_code == 201
    portal_server.carrier_event(tracking, "delivered", "Delivered to the front door")
    page.goto(order["tracking_url"])  # type: ignore[attr-defined]
    form = page.locator("form.feedback-form")  # type: ignore[attr-defined]
    expect(form).to_be_visible()
    form.get_by_label("4 out of 5").check()
    form.get_by_label("Comment (optional)").fill("Arrived early, thank you")
    form.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_text("Thank you for your feedback (4/5).")).to_be_visible()  # type: ignore[attr-defined]
    data = portal_server.api("GET", f"/api/v1/orders/{order['order_number']}").json()
    assert (
        data["feedback"]["rating"] == 4
        and data["feedback"]["comment"] == "Arrived early, thank you"
    )


def test_lookup_form(portal_server: PortalProcess, page: object) -> None:
    order = portal_server.create_order(number())
    answers = []
    for order_number, email in (
        (order["order_number"], "eve@example.com"),
        ("NO-SUCH-ORDER", "ada@example.com"),
        (order["order_number"], "Ada@Example.com"),
    ):
        page.goto(portal_server.base_url + "/track")  # type: ignore[attr-defined]
        page.get_by_label("Order number").fill(order_number)  # type: ignore[attr-defined]
        page.get_by_label("Email address").fill(email)  # type: ignore[attr-defined]
        page.get_by_role("button", name="Email me the link").click()  # type: ignore[attr-defined]
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()  # type: ignore[attr-defined]
        answers.append(page.locator("main").inner_text())  # type: ignore[attr-defined]
    assert answers[0] == answers[1] == answers[2] and "we have emailed a link" in answers[0]
    mail_log = portal_server.log.parent / "mail.log"
    link = None
    for _ in range(100):
        found = (
            re.search(r"https?://\S+/t/[A-Za-z0-9_-]+", mail_log.read_text())
            if mail_log.exists()
            else None
        )
        if found and f"order {order['order_number']}" in mail_log.read_text():
            link = found.group(0)
            break
        time.sleep(0.1)
    assert link is not None, "the link was emailed"
    page.goto(link)  # type: ignore[attr-defined]
    expect(page.get_by_role("heading", name=f"Order {order['order_number']}")).to_be_visible()  # type: ignore[attr-defined]


def test_page_works_without_javascript(portal_server: PortalProcess, browser: object) -> None:
    order = portal_server.create_order(number())
    context = browser.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(order["tracking_url"])
        expect(page.get_by_role("heading", name=f"Order {order['order_number']}")).to_be_visible()
        expect(page.locator("#live-indicator")).to_be_hidden()
    finally:
        context.close()
