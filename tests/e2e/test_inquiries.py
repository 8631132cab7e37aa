"""Inquiries in Chromium with two browser contexts: the customer asks on the tracking page; the
question appears in the agent's queue without reload, with its countdown; the agent answers
from the order screen; the answer appears on the customer's page without reload; a breach (a
policy with a one-minute target) turns the queue entry red without reload."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PortalProcess
from tests.e2e.staff_helpers import create_staff_user, sign_in

MARK_DOCUMENT = "() => { window.__sameDocument = true; }"
SAME_DOCUMENT = "() => window.__sameDocument === true"
ALL_DAY = [["00:00", "24:00"]]
POLICY = {
    "timezone": "UTC",
    "business_hours": {day: ALL_DAY for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "targets": {"urgent": {"first_response": 1, "next_response": 1, "resolution": 5}},
    "warning_minutes": 0,
}


@pytest.fixture
def desk_server(tmp_path: Path) -> Iterator[PortalProcess]:
    policy = tmp_path / "sla.json"
    policy.write_text(json.dumps(POLICY))
    server = PortalProcess(tmp_path / "instance", {"PORTAL_SLA_POLICIES": str(policy)})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def two_contexts(browser: Any) -> tuple[Any, Page, Any, Page]:
    customer_ctx = browser.new_context(viewport={"width": 390, "height": 844})
    agent_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    customer, agent = customer_ctx.new_page(), agent_ctx.new_page()
    for page in (customer, agent):
        page.set_default_timeout(15_000)
    return customer_ctx, customer, agent_ctx, agent


def test_ask_answer_and_breach_live(desk_server: PortalProcess, browser: Any) -> None:
    server = desk_server
    number = "INQ-" + uuid.uuid4().hex[:6].upper()
    created = server.create_order(number)
    customer_ctx, customer, agent_ctx, agent = two_contexts(browser)
    try:
        sign_in(agent, server, create_staff_user(server, "agent"))
        expect(agent.locator("#queue-empty")).to_be_visible()
        expect(agent.locator("#queue-live")).to_be_visible()  # the queue socket is open
        agent.evaluate(MARK_DOCUMENT)

        # The customer asks on the tracking page.
        customer.goto(created["tracking_url"])
        customer.get_by_label("Your question about this order").fill("Can it go to my office?")
        customer.get_by_role("button", name="Send question").click()
        expect(customer.locator("#inquiries")).to_contain_text("Can it go to my office?")
        expect(customer.locator(".inquiry-due")).to_contain_text("We will answer by")
        expect(customer.locator("#live-indicator")).to_have_attribute("data-state", "connected")
        customer.evaluate(MARK_DOCUMENT)

        # It appears in the agent's queue without reload, with a countdown.
        row = agent.locator("#queue-list tr.queue-row", has_text="Can it go to my office?")
        expect(row).to_be_visible()
        expect(row.locator("time.countdown")).to_contain_text("in ")
        assert agent.evaluate(SAME_DOCUMENT)

        # The agent answers from the order screen.
        row.get_by_role("link", name=number).click()
        agent.wait_for_url(f"{server.base_url}/support/orders/{number}")
        section = agent.locator("#screen-inquiries")
        expect(section).to_contain_text("Can it go to my office?")
        section.get_by_label("Answer").fill("Yes: we will send it to your office.")
        section.get_by_role("button", name="Send answer").click()

        # The answer appears on the customer's page without reload.
        expect(customer.locator("#inquiries")).to_contain_text(
            "Yes: we will send it to your office."
        )
        expect(customer.locator("#inquiries")).to_contain_text("Our support team")
        assert customer.evaluate(SAME_DOCUMENT)

        # A breach: an urgent inquiry (one-minute first response) turns red without reload.
        agent.goto(server.base_url + "/support")
        agent.evaluate(MARK_DOCUMENT)
        expect(agent.locator("#queue-live")).to_be_visible()
        asked = server.api(
            "POST",
            "/api/v1/inquiries",
            {"order_number": number, "message": "Urgent!", "subject": "Urgent one",
             "priority": "urgent", "channel": "phone"},
        )  # fmt: skip
        assert asked.status_code == 201, asked.text
        urgent = agent.locator("#queue-list tr.queue-row", has_text="Urgent one")
        expect(urgent).to_have_attribute("data-state", "ok")
        expect(urgent).to_have_attribute("data-state", "breached", timeout=90_000)
        expect(urgent).to_contain_text("Breached")
        assert agent.evaluate(SAME_DOCUMENT)
    finally:
        customer_ctx.close()
        agent_ctx.close()
