"""A customer's browser watching an order live: every change appears without a reload, and the
page finds its way back by itself after the server restarts."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from portal.security import hash_token
from portal.web.presenters import long_date
from tests.e2e.conftest import PortalProcess

EVENT_ID = re.compile(r'\bid="ev-(\d+)"')

# Installed once the page is connected: a marker that a reload would wipe out, a count of the
# frames htmx has swapped in, and every state the live indicator goes through.
WATCH_PAGE = """() => {
  window.__sameDocument = true;
  window.__frames = 0;
  window.__states = [];
  document.body.addEventListener("htmx:wsAfterMessage", () => { window.__frames += 1; });
  const indicator = document.getElementById("live-indicator");
  new MutationObserver(() => window.__states.push(indicator.dataset.state))
    .observe(indicator, {attributes: true, attributeFilter: ["data-state"]});
}"""


def number() -> str:
    return "LIVE-" + uuid.uuid4().hex[:6].upper()


def open_live(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "connected")
    page.evaluate(WATCH_PAGE)


def frames(page: Page) -> int:
    return int(page.evaluate("window.__frames"))


def same_document(page: Page) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def event_count(server: PortalProcess, order_number: str) -> int:
    return len(server.api("GET", f"/api/v1/orders/{order_number}").json()["events"])


def timeline_ids(page: Page) -> list[str]:
    return [str(x) for x in page.locator("#timeline > li").evaluate_all("(l) => l.map(e => e.id)")]


def rendered_timeline(url: str) -> list[str]:
    """The timeline's entry ids, newest first, as a fresh page load shows them."""
    html = httpx.get(url, timeout=10).text
    return [f"ev-{n}" for n in EVENT_ID.findall(html[html.index('id="timeline"') :])]


class Step:
    """Expectations that must hold after one change, checked in the live page."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url

    def __call__(self, *, badge: str, newest: str, step: str | None = None) -> None:
        page = self.page
        truth = rendered_timeline(self.url)
        entries = page.locator("#timeline > li")
        expect(entries).to_have_count(len(truth))
        # Entry by entry and in the same order as a fresh page: each increment went in its place.
        assert timeline_ids(page) == truth
        expect(entries.filter(has_text=newest).first).to_be_visible()
        expect(page.locator("#order-status .badge")).to_have_text(badge)
        if step is not None:
            expect(page.locator('.progress [aria-current="step"]')).to_have_text(step)


def test_milestones_appear_live_in_order(portal_server: PortalProcess, page: Page) -> None:
    order = portal_server.create_order(number())
    order_number = order["order_number"]
    open_live(page, order["tracking_url"])
    check = Step(page, order["tracking_url"])
    check(badge="Order placed", newest="Order placed", step="Order placed")
    expect(page.locator("#delay-banner")).to_be_empty()
    expect(page.locator("#feedback")).to_be_empty()

    tracking = "JD" + uuid.uuid4().hex[:10].upper()
    answer = portal_server.api(
        "POST",
        f"/api/v1/orders/{order_number}/shipments",
        {"carrier": "dhl", "tracking_number": tracking},
    )
    assert answer.status_code == 201, answer.text
    check(badge="Shipped", newest=f"tracking number {tracking}", step="Shipped")
    expect(page.locator("#shipments")).to_contain_text(tracking)
    expect(page.locator("#shipments")).to_contain_text("Label created")

    seen = frames(page)
    portal_server.carrier_event(tracking, "in_transit", "Departed the hub")
    check(badge="In transit", newest="Departed the hub", step="In transit")
    expect(page.locator("#shipments")).to_contain_text("In transit")
    assert frames(page) > seen  # htmx swapped the frames in: the DOM moved without a request

    new_eta = datetime.now(UTC).date() + timedelta(days=9)
    portal_server.carrier_event(
        tracking, "exception", "Severe weather on the route", reason="weather", eta=new_eta
    )
    banner = page.locator("#delay-banner .delay-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Your order is delayed")
    expect(banner).to_contain_text("Bad weather")
    expect(banner).to_contain_text(f"New estimated delivery: {long_date(new_eta)}")
    expect(page.locator("#eta")).to_have_text(long_date(new_eta))
    expect(page.locator("#shipments")).to_contain_text("Problem in transit")
    check(badge="In transit", newest="Severe weather on the route")

    portal_server.carrier_event(tracking, "in_transit", "Back on the road")
    check(badge="In transit", newest="Back on the road", step="In transit")
    expect(page.locator("#shipments")).not_to_contain_text("Problem in transit")

    portal_server.carrier_event(tracking, "out_for_delivery", "With the courier")
    check(badge="Out for delivery", newest="With the courier", step="Out for delivery")
    expect(page.locator("#eta")).to_have_text(long_date(new_eta))

    expect(page.locator("form.feedback-form")).to_have_count(0)
    portal_server.carrier_event(tracking, "delivered", "Left at the front door")
    check(badge="Delivered", newest="Left at the front door")
    expect(page.locator(".progress .step").last).to_have_class(re.compile(r"\bstep--done\b"))
    expect(page.locator("#delay-banner")).to_be_empty()
    expect(page.locator("#eta")).to_have_count(0)
    form = page.locator("form.feedback-form")
    expect(form).to_be_visible()

    assert len(timeline_ids(page)) == event_count(portal_server, order_number)
    assert same_document(page), "the page was reloaded"
    assert set(page.evaluate("window.__states")) <= {"connected"}

    # The form that arrived live works like one the page was served with.
    form.get_by_label("5 out of 5").check()
    form.get_by_label("Comment (optional)").fill("Watched it arrive")
    form.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_text("Thank you for your feedback (5/5).")).to_be_visible()
    data = portal_server.api("GET", f"/api/v1/orders/{order_number}").json()
    assert data["feedback"]["rating"] == 5
    assert data["feedback"]["comment"] == "Watched it arrive"


def test_page_reconnects_after_a_restart_and_catches_up(
    portal_server: PortalProcess, page: Page
) -> None:
    order = portal_server.create_order(number())
    order_number = order["order_number"]
    open_live(page, order["tracking_url"])
    indicator = page.locator("#live-indicator")
    expect(page.locator("#timeline > li")).to_have_count(1)

    portal_server.stop()
    expect(indicator).to_have_attribute("data-state", "reconnecting")
    portal_server.start()  # same port, same database
    # Changes made as soon as it is back (before the page has found it again, most likely).
    answer = portal_server.api(
        "POST",
        f"/api/v1/orders/{order_number}/delays",
        {
            "reason_code": "weather",
            "message": "Storm while you were away",
            "new_estimated_delivery": (datetime.now(UTC).date() + timedelta(days=8)).isoformat(),
        },
    )
    assert answer.status_code == 201, answer.text
    expected = event_count(portal_server, order_number)

    # The ws extension retries with jittered exponential backoff: allow for several rounds.
    expect(indicator).to_have_attribute("data-state", "connected", timeout=60_000)
    expect(page.locator("#delay-banner")).to_contain_text("Storm while you were away")
    expect(page.locator("#timeline > li")).to_have_count(expected)
    assert timeline_ids(page) == rendered_timeline(order["tracking_url"])
    states: list[Any] = page.evaluate("window.__states")
    assert "reconnecting" in states and states[-1] == "connected", states
    assert states.index("reconnecting") < len(states) - 1
    assert same_document(page), "the page was reloaded"

    # And it is live again: the next change arrives as an increment.
    answer = portal_server.api(
        "POST", f"/api/v1/orders/{order_number}/status", {"status": "processing"}
    )
    assert answer.status_code == 200, answer.text
    expect(page.locator("#order-status .badge")).to_have_text("Processing")
    expect(page.locator("#timeline > li")).to_have_count(expected + 1)
    assert same_document(page)


def test_a_revoked_link_stops_live_updates_and_says_so(
    portal_server: PortalProcess, page: Page
) -> None:
    order = portal_server.create_order(number())
    open_live(page, order["tracking_url"])
    token = order["tracking_url"].rsplit("/", 1)[1]
    # Revoked behind the page's back (as the support console would).
    database = Path(portal_server.env["PORTAL_INSTANCE_DIR"]) / "portal.db"
    with closing(sqlite3.connect(database, timeout=10)) as db, db:
        revoked = db.execute(
            "UPDATE share_links SET revoked_at = ? WHERE token_hash = ?",
            (datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), hash_token(token)),
        )
        assert revoked.rowcount == 1
    indicator = page.locator("#live-indicator")
    # The server checks open sockets' links every 10 s and closes them with 1008, which the
    # page must not retry (it would be refused) and must not present as "reconnecting".
    expect(indicator).to_have_attribute("data-state", "offline", timeout=20_000)
    expect(indicator).to_contain_text("Live updates stopped")
    page.wait_for_timeout(2_500)  # longer than the first reconnect delay would be
    assert page.evaluate("window.__states").count("connected") == 0
    expect(indicator).to_have_attribute("data-state", "offline")


def test_a_busy_server_s_1013_is_retried_with_a_growing_backoff(
    portal_server: PortalProcess, page: Page
) -> None:
    # After a deploy the server may accept and at once close with 1013 "try again later"
    # (PORTAL_WS_CATCHUP_QUEUE). The page comes back, each time after a longer (jittered)
    # wait: htmx alone restarts its backoff at every open, so every retry would come within 1 s.
    order = portal_server.create_order(number())
    page.add_init_script("Math.random = () => 0.999;")  # the top of each jitter window
    attempts: list[float] = []
    refused: list[Any] = []

    def busy_twice(ws: Any) -> None:
        attempts.append(time.monotonic())
        if len(attempts) <= 2:
            refused.append(ws)  # accepted (the page sees it open), closed below
        else:
            ws.connect_to_server()

    page.route_web_socket(re.compile(r".*/t/[^/]+/ws$"), busy_twice)
    indicator = page.locator("#live-indicator")
    page.goto(order["tracking_url"])
    waits = []
    for n in range(2):
        expect(indicator).to_have_attribute("data-state", "connected")
        refused[n].close(code=1013, reason="try again later")
        closed_at = time.monotonic()
        for _ in range(200):  # the page's next attempt, within 10 s
            if len(attempts) > n + 1:
                break
            page.wait_for_timeout(25)
        waits.append(attempts[n + 1] - closed_at)
    expect(indicator).to_have_attribute("data-state", "connected", timeout=20_000)
    assert len(attempts) == 3
    assert 0.7 < waits[0] < 1.6, waits  # the first window: 1 s
    assert waits[1] > 1.7, waits  # doubled after a refusal: 2 s
    expect(page.locator("#timeline > li")).to_have_count(1)  # the snapshot, once in
