"""In Chromium: an order screen kept live by partial frames ends up as the page a reload gives."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PortalProcess
from tests.e2e.test_order_screen import open_screen, shipped, still_same_document

# The screen's parts as a list of lines: each element with its attributes (sorted), each
# non-blank text; whitespace between elements does not count. Left out: the CSRF fields the
# page has for use without JavaScript (frames are shared by every agent, so they carry none:
# htmx sends the header instead), and the customer's local time now (a reload may be a
# minute later).
SHAPE = """(root) => {
  const lines = [];
  const local = root.querySelector('#screen-customer dd:nth-of-type(4)');
  const walk = (node, depth) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent.replace(/\\s+/g, ' ').trim();
      if (text) { lines.push(depth + ' ' + text); }
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) { return; }
    if (node.matches('input[name="csrf_token"]')) { return; }
    const attrs = Array.from(node.attributes).map((a) => a.name + '=' + a.value).sort();
    lines.push(depth + ' <' + node.tagName + ' ' + attrs.join(' '));
    if (node === local) { return; }
    node.childNodes.forEach((child) => walk(child, depth + 1));
  };
  walk(root, 0);
  return lines;
}"""


def shape(page: Page) -> list[str]:
    return list(page.locator(".screen-main").evaluate(SHAPE))


def test_the_live_screen_is_the_page_a_reload_gives(
    page: Page, portal_server: PortalProcess
) -> None:
    number, tracking, tracking_url = shipped(portal_server)
    frames: list[int] = []

    def on_socket(socket: Any) -> None:
        if "/support/ws/orders/" in socket.url:
            socket.on("framereceived", lambda payload: frames.append(len(str(payload))))

    page.on("websocket", on_socket)
    open_screen(page, portal_server, number)
    timeline = page.locator("#timeline")
    # A checkpoint (at the top), then one that arrives late (in the middle of the timeline).
    portal_server.carrier_event(tracking, "in_transit", "Sorted in Leipzig")
    expect(timeline).to_contain_text("Sorted in Leipzig")
    earlier = datetime.now(UTC) - timedelta(minutes=30)
    portal_server.carrier_event(tracking, "in_transit", "Scanned in Halle", occurred_at=earlier)
    expect(timeline).to_contain_text("Scanned in Halle")
    # The customer opens their page; the agent logs a call and revokes the link.
    assert httpx.get(tracking_url).status_code == 200
    expect(page.locator("#screen-visits")).to_contain_text("1")
    page.get_by_label("Summary").fill("Asked about the parcel")
    page.get_by_role("button", name="Log it").click()
    expect(page.locator("#crm-log")).to_contain_text("Asked about the parcel")
    links = portal_server.api("GET", f"/api/v1/orders/{number}/links").json()["links"]
    link = next(link for link in links if link["created_by"] == "placement")
    page.get_by_role("button", name=f"Revoke link {link['id']}").click()
    expect(page.locator(f"#link-{link['id']}")).to_contain_text("revoked")
    portal_server.carrier_event(tracking, "out_for_delivery", "With the driver")
    expect(page.locator("#order-status")).to_contain_text("Out for delivery")
    assert still_same_document(page)

    # The dispatcher may still be sending the notices: compare until both agree.
    fresh = page.context.new_page()
    deadline = time.monotonic() + 20
    while True:
        fresh.goto(f"{portal_server.base_url}/support/orders/{number}")
        live, reloaded = shape(page), shape(fresh)
        if live == reloaded or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert live == reloaded
    assert len(live) > 200 and any("With the driver" in line for line in live)
    # The first frame was the whole screen; every later one was smaller.
    assert len(frames) >= 5 and max(frames[1:]) < frames[0]
