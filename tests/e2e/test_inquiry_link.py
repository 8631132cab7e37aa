"""Linking an unmatched inquiry to its order in Chromium, by keyboard only: the queue's
"unmatched" entry opens the inquiry's page; a sender who is not the order's customer is refused
with a warning until the agent ticks the confirmation; then the order's screen shows it."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from playwright.sync_api import expect

from tests.e2e.axe import assert_no_serious_axe_violations
from tests.e2e.conftest import PortalProcess
from tests.e2e.staff_helpers import create_staff_user, sign_in


def test_link_an_unmatched_inquiry_by_keyboard(portal_server: PortalProcess, page: Any) -> None:
    server = portal_server
    number = "LNK-" + uuid.uuid4().hex[:6].upper()
    server.create_order(number)
    asked = server.api(
        "POST",
        "/api/v1/inquiries",
        {"message": "My parcel has not come", "subject": "Parcel missing", "channel": "email",
         "customer_email": "ada.at.work@example.org"},
    )  # fmt: skip
    assert asked.status_code == 201, asked.text
    inquiry_id = asked.json()["id"]
    page.set_default_timeout(15_000)
    sign_in(page, server, create_staff_user(server, "agent"))

    entry = page.get_by_role("link", name=f"link inquiry #{inquiry_id} to an order")
    entry.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.base_url}/support/inquiries/{inquiry_id}")
    expect(page.get_by_role("heading", name="Link to an order")).to_be_visible()
    expect(page.locator("body")).to_contain_text("ada.at.work@example.org")
    assert_no_serious_axe_violations(page)

    # The sender is not the order's customer: refused, with a warning, nothing linked.
    field = page.get_by_label("Order number")
    field.focus()
    page.keyboard.type(number)
    page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("not this order's customer")
    expect(page.get_by_label("Order number")).to_have_value(number)
    assert_no_serious_axe_violations(page)

    # The agent has checked and confirms, still by keyboard.
    page.get_by_label("The sender is this order's customer").focus()
    page.keyboard.press("Space")
    expect(page.get_by_label("The sender is this order's customer")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Link to order")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.base_url}/support/orders/{number}#screen-inquiry-{inquiry_id}")
    expect(page.locator(f"#screen-inquiry-{inquiry_id}")).to_contain_text("My parcel has not come")
    linked = server.api("GET", f"/api/v1/inquiries/{inquiry_id}").json()
    assert linked["order_number"] == number


def test_answer_an_unmatched_inquiry_by_email_from_its_page(
    portal_server: PortalProcess, page: Any
) -> None:
    """No order needed: the answer goes to the sender through the outbox and the page shows
    it on its way, then sent (the server's dispatcher writes it to mail.log)."""
    server = portal_server
    sender = f"who-{uuid.uuid4().hex[:6]}@example.org"
    asked = server.api(
        "POST",
        "/api/v1/inquiries",
        {"message": "Did you get my return?", "subject": "A return", "channel": "email",
         "customer_email": sender},
    )  # fmt: skip
    assert asked.status_code == 201, asked.text
    inquiry_id = asked.json()["id"]
    page.set_default_timeout(15_000)
    sign_in(page, server, create_staff_user(server, "agent"))
    page.goto(f"{server.base_url}/support/inquiries/{inquiry_id}")
    expect(page.get_by_label("Send", exact=True)).to_have_value("outbox")
    expect(page.get_by_label("Send", exact=True)).to_contain_text(f"by email to {sender}")
    answer = page.get_by_label("Answer given")
    answer.focus()
    page.keyboard.type("Yes, it reached us on Monday.")
    page.get_by_role("button", name="Send answer").click()
    page.wait_for_url(f"{server.base_url}/support/inquiries/{inquiry_id}?done=reply-sent")
    expect(page.get_by_role("status")).to_contain_text("The answer is on its way.")
    assert_no_serious_axe_violations(page)
    mail_log = server.log.parent / "mail.log"
    deadline = time.monotonic() + 15
    while not (mail_log.exists() and sender in mail_log.read_text()):
        assert time.monotonic() < deadline, "the answer was not sent"
        time.sleep(0.1)
    [sent] = [json.loads(line) for line in mail_log.read_text().splitlines() if sender in line]
    assert sent["to"] == sender and "Yes, it reached us on Monday." in sent["text"]
    page.reload()
    expect(page.locator(f"#inquiry-{inquiry_id}")).to_contain_text("sent")
    expect(page.locator(f"#inquiry-{inquiry_id}")).not_to_contain_text("not sent yet")
