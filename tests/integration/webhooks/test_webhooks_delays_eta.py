"""Carrier trouble opens a delay without moving the order back; carrier estimates keep history."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlmodel import col

from portal.models import Order, OrderEvent
from tests.integration.conftest import Portal
from tests.integration.webhooks.carrier_payloads import (
    deliver,
    generic_body,
    retarget,
    shifted,
)
from tests.integration.webhooks.conftest import Shipped, ship


class Trouble(NamedTuple):
    shop_carrier: str
    fixtures: tuple[str, ...]
    shipment_status: str
    reason: str
    order_status: str


TROUBLES: dict[tuple[str, str], Trouble] = {
    ("easypost", "weather"): Trouble(
        "ups", ("weather_delay",), "exception", "weather", "shipped"
    ),
    ("easypost", "attempt"): Trouble(
        "usps", ("delivery_exception",), "attempt_failed", "recipient_unavailable",
        "out_for_delivery",
    ),
    ("aftership", "customs"): Trouble(
        "royal-mail", ("exception_customs",), "exception", "customs", "in_transit"
    ),
    ("aftership", "attempt"): Trouble(
        "usps", ("attempt_fail",), "attempt_failed", "recipient_unavailable", "in_transit"
    ),
    ("shippo", "lost"): Trouble("usps", ("failure_lost",), "exception", "lost", "in_transit"),
    ("shippo", "attempt"): Trouble(
        "usps", ("delivery_attempted",), "attempt_failed", "recipient_unavailable",
        "out_for_delivery",
    ),
    ("ups", "weather"): Trouble(
        "ups", ("on_the_way", "exception_weather"), "exception", "weather", "in_transit"
    ),
    ("ups", "attempt"): Trouble(
        "ups", ("out_for_delivery", "attempt"), "attempt_failed", "recipient_unavailable",
        "out_for_delivery",
    ),
    ("fedex", "weather"): Trouble(
        "fedex", ("weather_delay",), "exception", "weather", "in_transit"
    ),
    ("fedex", "attempt"): Trouble(
        "fedex", ("delivery_exception",), "attempt_failed", "recipient_unavailable",
        "out_for_delivery",
    ),
    ("generic", "weather"): Trouble("dhl", ("batch",), "exception", "weather", "in_transit"),
}  # fmt: skip


async def eta_events(portal: Portal, shipped: Shipped) -> list[dict[str, Any]]:
    """The data (previous, new) of the order's ETA events, oldest first."""
    async with portal.runtime.db.read() as session:
        rows = await session.execute(
            select(OrderEvent)
            .join(Order, col(Order.id) == col(OrderEvent.order_id))
            .where(col(Order.order_number) == shipped.order_number, col(OrderEvent.kind) == "eta")
            .order_by(col(OrderEvent.seq))
        )
        return [json.loads(e.data or "{}") for e in rows.scalars()]


@pytest.mark.parametrize(("provider", "case"), sorted(TROUBLES))
async def test_trouble_opens_a_delay_and_keeps_the_milestone(
    portal: Portal, provider: str, case: str
) -> None:
    trouble = TROUBLES[(provider, case)]
    shipped = await ship(portal, trouble.shop_carrier)
    for name in trouble.fixtures:
        answer = await deliver(portal, provider, retarget(provider, name, shipped.tracking_number))
        assert answer.status_code == 200, answer.text
        assert answer.json()["outcome"] == "applied"

    order = await shipped.order()
    assert order["status"] == trouble.order_status
    shipment = order["shipments"][0]
    assert shipment["status"] == trouble.shipment_status
    assert shipment["reason_code"] == trouble.reason
    assert shipment["milestone"] != trouble.shipment_status
    assert len(order["delays"]) == 1
    delay = order["delays"][0]
    assert delay["reason_code"] == trouble.reason
    assert delay["state"] == "open" and delay["message"]
    statuses = [e["status"] for e in order["events"] if e["kind"] == "status"]
    assert trouble.shipment_status not in statuses
    assert any(e["kind"] == "delay" and e["reason_code"] == trouble.reason for e in order["events"])
    channels = {n["channel"] for n in await shipped.notifications() if n["kind"] == "delay"}
    assert channels == {"email", "phone"}


async def test_repeated_trouble_keeps_one_delay_which_delivery_resolves(
    portal: Portal, shipped: Shipped
) -> None:
    start = portal.clock() - timedelta(hours=30)
    steps = [
        ("in_transit", None, "Departed hub"),
        ("exception", "weather", "Snow closed the depot"),
        ("exception", "weather", "Depot still closed"),
        ("attempt_failed", "recipient_unavailable", "Nobody home"),
    ]
    for hours, (status, reason, message) in enumerate(steps):
        answer = await deliver(
            portal,
            "generic",
            generic_body(
                shipped.tracking_number,
                status,
                start + timedelta(hours=hours),
                message,
                reason_code=reason,
            ),
        )
        assert answer.status_code == 200, answer.text
    order = await shipped.order()
    assert order["status"] == "in_transit"
    assert order["shipments"][0]["status"] == "attempt_failed"
    assert [d["reason_code"] for d in order["delays"]] == ["weather"]
    assert sum(n["kind"] == "delay" for n in await shipped.notifications()) == 2

    answer = await deliver(
        portal,
        "generic",
        generic_body(shipped.tracking_number, "delivered", start + timedelta(hours=8), "Delivered"),
    )
    assert answer.status_code == 200
    order = await shipped.order()
    assert order["status"] == "delivered"
    assert order["delays"][0]["state"] == "resolved"


async def test_an_exception_older_than_the_current_status_opens_no_delay(
    portal: Portal, shipped: Shipped
) -> None:
    now = portal.clock()
    await deliver(
        portal, "generic", generic_body(shipped.tracking_number, "delivered", now, "Delivered")
    )
    answer = await deliver(
        portal,
        "generic",
        generic_body(
            shipped.tracking_number,
            "exception",
            now - timedelta(hours=5),
            "Held by weather",
            reason_code="weather",
        ),
    )
    assert answer.status_code == 200
    order = await shipped.order()
    assert order["status"] == "delivered" and order["delays"] == []
    late = next(e for e in order["events"] if e["message"] == "Held by weather")
    assert late["applied"] is False


async def test_carrier_estimates_update_shipment_and_order_and_keep_history(
    portal: Portal,
) -> None:
    today = portal.clock().date()
    first_eta = today + timedelta(days=3)
    shipped = await ship(portal, "dhl", estimated_delivery=first_eta.isoformat())
    order = await shipped.order()
    assert order["estimated_delivery"] == first_eta.isoformat()
    start = portal.clock() - timedelta(hours=6)

    async def scan(hours: int, eta: date, status: str = "in_transit") -> None:
        answer = await deliver(
            portal,
            "generic",
            generic_body(
                shipped.tracking_number,
                status,
                start + timedelta(hours=hours),
                f"Scan {hours}",
                estimated_delivery=eta.isoformat(),
            ),
        )
        assert answer.status_code == 200, answer.text

    later, sooner = today + timedelta(days=5), today + timedelta(days=2)
    await scan(1, later)
    order = await shipped.order()
    assert order["estimated_delivery"] == later.isoformat()
    assert order["shipments"][0]["estimated_delivery"] == later.isoformat()
    await scan(2, later)  # the same estimate again is no news
    await scan(3, sooner, "out_for_delivery")
    order = await shipped.order()
    assert order["estimated_delivery"] == sooner.isoformat()
    assert order["shipments"][0]["estimated_delivery"] == sooner.isoformat()
    # A newer update that moves no status still carries the carrier's current estimate.
    await scan(4, later)
    order = await shipped.order()
    assert order["status"] == "out_for_delivery"
    assert order["shipments"][0]["estimated_delivery"] == later.isoformat()
    # An update older than the current status does not overwrite a newer estimate.
    await scan(0, today + timedelta(days=9))
    order = await shipped.order()
    assert order["shipments"][0]["estimated_delivery"] == later.isoformat()
    assert order["estimated_delivery"] == later.isoformat()

    history = [(e["previous"], e["new"]) for e in await eta_events(portal, shipped)]
    promised = order["promised_deliver_by"]
    assert history == [
        (promised, first_eta.isoformat()),
        (first_eta.isoformat(), later.isoformat()),
        (later.isoformat(), sooner.isoformat()),
        (sooner.isoformat(), later.isoformat()),
    ]
    assert order["delays"] == []


async def test_an_aftership_estimate_revision_updates_the_eta_and_reports_the_delay(
    portal: Portal,
) -> None:
    shipped = await ship(portal, "dhl")
    await deliver(portal, "aftership", retarget("aftership", "in_transit", shipped.tracking_number))
    order = await shipped.order()
    first = shifted("2027-03-03T00:00:00+00:00").date().isoformat()
    assert order["estimated_delivery"] == first

    answer = await deliver(
        portal, "aftership", retarget("aftership", "edd_revise", shipped.tracking_number)
    )
    assert answer.status_code == 200 and answer.json()["outcome"] == "applied"
    order = await shipped.order()
    revised = shifted("2027-03-05T00:00:00+00:00").date().isoformat()
    assert order["estimated_delivery"] == revised
    assert order["shipments"][0]["estimated_delivery"] == revised
    assert order["status"] == "in_transit"
    assert [(d["reason_code"], d["new_estimated_delivery"]) for d in order["delays"]] == [
        ("weather", revised)
    ]
    assert order["delays"][0]["message"] == "Estimated delivery date revised (extreme weather)"
    history = [(e["previous"], e["new"]) for e in await eta_events(portal, shipped)]
    assert history[-1] == (first, revised)
    assert {n["channel"] for n in await shipped.notifications() if n["kind"] == "delay"} == {
        "email",
        "phone",
    }


async def test_a_returned_order_with_a_delay_no_longer_says_it_is_delayed(
    portal: Portal, shipped: Shipped
) -> None:
    start = portal.clock() - timedelta(hours=10)
    steps = [
        ("in_transit", None, "Departed hub"),
        ("exception", "address", "Address not found"),
    ]
    for hours, (status, reason, message) in enumerate(steps):
        body = generic_body(
            shipped.tracking_number,
            status,
            start + timedelta(hours=hours),
            message,
            reason_code=reason,
        )
        assert (await deliver(portal, "generic", body)).status_code == 200
    page = await portal.client.get(urlsplit(shipped.tracking_url).path)
    assert "Your order is delayed" in page.text  # the delay shows while the parcel travels

    body = generic_body(
        shipped.tracking_number, "returned_to_sender", start + timedelta(hours=3), "Returned"
    )
    assert (await deliver(portal, "generic", body)).status_code == 200
    order = await shipped.order()
    assert order["status"] == "returned"
    assert [d["state"] for d in order["delays"]] == ["resolved"]
    page = await portal.client.get(urlsplit(shipped.tracking_url).path)
    assert page.status_code == 200
    assert "Returned" in page.text
    assert "Your order is delayed" not in page.text
    assert "Expected " not in page.text
