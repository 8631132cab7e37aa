"""Each carrier's realistic payload, signed as the carrier signs it, moves a registered shipment."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import pytest

from tests.integration.conftest import Portal
from tests.integration.webhooks.carrier_payloads import (
    deliver,
    generic_body,
    new_tracking_number,
    parse,
    retarget,
    shifted,
)
from tests.integration.webhooks.conftest import ship


class Journey(NamedTuple):
    shop_carrier: str
    out_for_delivery: str
    newest_message: str
    newest_location: str
    newest_at: str  # as in the fixture, before the day shift
    delivered: str
    delivered_message: str


JOURNEYS: dict[str, Journey] = {
    "easypost": Journey(
        "usps", "out_for_delivery", "Out for Delivery", "CHARLOTTE, NC 28209, US",
        "2027-03-03T13:05:00+00:00", "delivered", "Delivered, In/At Mailbox",
    ),
    "aftership": Journey(
        "dhl", "out_for_delivery", "The shipment has been loaded onto the delivery vehicle",
        "München, BY 80331, DEU", "2027-03-03T06:41:00+00:00", "delivered",
        "The shipment has been delivered to the recipient",
    ),
    "shippo": Journey(
        "usps", "out_for_delivery", "Out for Delivery, Expected Delivery by 8:00pm",
        "Spotsylvania, VA 22551, US", "2027-03-04T12:40:00+00:00", "delivered",
        "Delivered, In/At Mailbox",
    ),
    "ups": Journey(
        "ups", "out_for_delivery", "Out for Delivery", "Charlotte, NC, US",
        "2027-03-03T14:15:19+00:00", "delivered", "Delivered",
    ),
    "fedex": Journey(
        "fedex", "out_for_delivery", "On FedEx vehicle for delivery", "CHARLOTTE, NC 28208, US",
        "2027-03-03T12:55:00+00:00", "delivered", "Delivered",
    ),
}  # fmt: skip


def _iso(moment: str) -> str:
    return shifted(moment).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("provider", sorted(JOURNEYS))
async def test_a_carrier_moves_its_shipment_to_out_for_delivery_then_delivered(
    portal: Portal, provider: str
) -> None:
    journey = JOURNEYS[provider]
    shipped = await ship(portal, journey.shop_carrier)

    body = retarget(provider, journey.out_for_delivery, shipped.tracking_number)
    expected = parse(provider, body).updates
    answer = await deliver(portal, provider, body)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["outcome"] == "applied"
    assert result["events"] == len(expected) and result["unmatched"] == []

    order = await shipped.order()
    assert order["status"] == "out_for_delivery"
    assert order["shipments"][0]["status"] == "out_for_delivery"
    checkpoints = await shipped.checkpoints()
    assert len(checkpoints) == len(expected)
    # Every checkpoint with its message, location and time, all of them moving the shipment
    # forward (the fixtures hold only progress, oldest first).
    assert [(c["message"], c["occurred_at"]) for c in checkpoints] == [
        (u.message, u.occurred_at.isoformat().replace("+00:00", "Z")) for u in expected
    ]
    newest = max(checkpoints, key=lambda c: c["occurred_at"])
    assert newest["message"] == journey.newest_message
    assert newest["location"] == journey.newest_location
    assert newest["occurred_at"] == _iso(journey.newest_at)
    assert newest["status"] == "out_for_delivery" and newest["applied"] is True
    statuses = [e["status"] for e in order["events"] if e["kind"] == "status"]
    assert statuses[0] == "placed" and statuses[-1] == "out_for_delivery"

    notices = await shipped.notifications()
    status_updates = {n["channel"] for n in notices if n["kind"] == "status_update"}
    assert status_updates == {"email", "sms"}

    delivered = retarget(provider, journey.delivered, shipped.tracking_number)
    answer = await deliver(portal, provider, delivered)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "applied"
    order = await shipped.order()
    assert order["status"] == "delivered"
    assert order["shipments"][0]["status"] == "delivered"
    assert order["shipments"][0]["delivered_at"] is not None
    last = max((await shipped.checkpoints()), key=lambda c: c["occurred_at"])
    assert (last["status"], last["message"]) == ("delivered", journey.delivered_message)
    # History the carrier repeated was not recorded twice.
    messages = [(c["message"], c["occurred_at"]) for c in await shipped.checkpoints()]
    assert len(messages) == len(set(messages))
    kinds = {(n["kind"], n["channel"]) for n in await shipped.notifications()}
    assert {("delivery", "email"), ("delivery", "sms")} <= kinds


async def test_the_generic_carrier_moves_its_shipment(portal: Portal) -> None:
    shipped = await ship(portal, "dhl")
    body = retarget("generic", "single", shipped.tracking_number)
    answer = await deliver(portal, "generic", body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "applied"
    (departed,) = await shipped.checkpoints()
    assert departed["message"] == "Departed hub"
    assert departed["location"] == "Leipzig, SN, DE"
    assert departed["occurred_at"] == _iso("2027-03-02T08:15:00+00:00")
    assert (await shipped.order())["status"] == "in_transit"

    later = shifted("2027-03-03T07:30:00+00:00")
    answer = await deliver(
        portal,
        "generic",
        generic_body(
            shipped.tracking_number,
            "out_for_delivery",
            later,
            "Out for delivery",
            location={"city": "Dresden", "region": "SN", "country": "DE"},
        ),
    )
    assert answer.status_code == 200 and answer.json()["outcome"] == "applied"
    assert (await shipped.order())["status"] == "out_for_delivery"
    assert {
        n["channel"] for n in await shipped.notifications() if n["kind"] == "status_update"
    } == {
        "email",
        "sms",
    }

    answer = await deliver(
        portal,
        "generic",
        generic_body(
            shipped.tracking_number, "delivered", later + timedelta(hours=3), "Handed to resident"
        ),
    )
    assert answer.status_code == 200 and answer.json()["outcome"] == "applied"
    order = await shipped.order()
    assert order["status"] == "delivered"
    assert [c["message"] for c in await shipped.checkpoints()] == [
        "Departed hub",
        "Out for delivery",
        "Handed to resident",
    ]
    assert {"delivery"} <= {n["kind"] for n in await shipped.notifications()}


async def test_an_order_is_delivered_only_once_every_item_has_shipped(portal: Portal) -> None:
    number = (await portal.create_order())["order_number"]  # 2 x MUG-1, 1 x TEA-7
    path = f"/api/v1/orders/{number}/shipments"
    mugs, tea = new_tracking_number(), new_tracking_number()
    answer = await portal.post(
        path,
        {"carrier": "dhl", "tracking_number": mugs, "items": [{"sku": "MUG-1", "quantity": 2}]},
    )
    assert answer.status_code == 201, answer.text
    when = shifted("2027-03-03T07:30:00+00:00")

    async def delivered(tracking_number: str) -> str:
        body = generic_body(tracking_number, "delivered", when, "Handed to resident")
        answer = await deliver(portal, "generic", body)
        assert answer.status_code == 200 and answer.json()["outcome"] == "applied", answer.text
        return str((await portal.get(f"/api/v1/orders/{number}")).json()["status"])

    assert await delivered(mugs) == "shipped"  # the tea has not left yet
    answer = await portal.post(path, {"carrier": "dhl", "tracking_number": tea})
    assert answer.status_code == 201, answer.text
    assert [(i["sku"], i["quantity"]) for i in answer.json()["items"]] == [("TEA-7", 1)]
    assert await delivered(tea) == "delivered"


async def test_items_of_a_cancelled_shipment_count_as_not_shipped(portal: Portal) -> None:
    number = (await portal.create_order())["order_number"]  # 2 x MUG-1, 1 x TEA-7
    path = f"/api/v1/orders/{number}/shipments"
    lost, mugs = new_tracking_number(), new_tracking_number()
    assert (await portal.post(path, {"carrier": "dhl", "tracking_number": lost})).status_code == 201
    when = shifted("2027-03-03T07:30:00+00:00")
    cancelled = generic_body(lost, "cancelled", when, "Label voided")
    assert (await deliver(portal, "generic", cancelled)).json()["outcome"] == "applied"
    answer = await portal.post(
        path,
        {"carrier": "dhl", "tracking_number": mugs, "items": [{"sku": "MUG-1", "quantity": 2}]},
    )
    assert answer.status_code == 201, answer.text
    body = generic_body(mugs, "delivered", when + timedelta(hours=1), "Handed to resident")
    assert (await deliver(portal, "generic", body)).json()["outcome"] == "applied"
    order = (await portal.get(f"/api/v1/orders/{number}")).json()
    assert order["status"] == "shipped"  # the tea went out with the cancelled shipment only
