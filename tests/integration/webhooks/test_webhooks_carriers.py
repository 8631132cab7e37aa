"""Each carrier's realistic payload, signed as the carrier signs it, moves a registered shipment."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import pytest

from tests.integration.conftest import Portal
from tests.integration.webhooks.carrier_payloads import (
    deliver,
    generic_body,
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
