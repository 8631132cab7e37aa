"""Updates for a tracking number the shop has not registered yet are kept, then applied."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select
from sqlmodel import col

from portal.models import WebhookReceipt
from portal.schemas import ShipmentCreate
from portal.services import orders as order_service
from portal.services.timeline import lock_order
from tests.integration.conftest import Portal
from tests.integration.webhooks.carrier_payloads import (
    deliver,
    generic_body,
    new_tracking_number,
    retarget,
)
from tests.integration.webhooks.conftest import ship


async def receipt(portal: Portal, receipt_id: int) -> WebhookReceipt:
    async with portal.runtime.db.read() as session:
        found = await session.get(WebhookReceipt, receipt_id)
    assert found is not None
    return found


async def test_an_unknown_tracking_number_is_kept_and_applied_when_the_shop_ships(
    portal: Portal,
) -> None:
    number = new_tracking_number("1Z")
    answer = await deliver(portal, "ups", retarget("ups", "out_for_delivery", number))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["outcome"] == "unmatched" and body["unmatched"] == [number]
    kept = await receipt(portal, body["receipt_id"])
    assert kept.outcome == "unmatched" and kept.applied_at is None
    assert number in kept.body

    shipped = await ship(portal, "ups", number)
    order = await shipped.order()
    assert order["status"] == "out_for_delivery"
    assert order["shipments"][0]["status"] == "out_for_delivery"
    (checkpoint,) = await shipped.checkpoints()
    assert checkpoint["message"] == "Out for Delivery"
    assert checkpoint["location"] == "Charlotte, NC, US"
    assert checkpoint["applied"] is True
    applied = await receipt(portal, body["receipt_id"])
    assert applied.outcome == "applied" and applied.applied_at is not None
    assert {
        n["channel"] for n in await shipped.notifications() if n["kind"] == "status_update"
    } == {
        "email",
        "sms",
    }

    # The kept update is applied once: a redelivery is a duplicate, not a second checkpoint.
    again = await deliver(portal, "ups", retarget("ups", "out_for_delivery", number))
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert len(await shipped.checkpoints()) == 1


async def test_several_kept_updates_apply_in_order_without_repeating_history(
    portal: Portal,
) -> None:
    number = new_tracking_number("94")
    ids = []
    for name in ("in_transit", "out_for_delivery"):
        answer = await deliver(portal, "easypost", retarget("easypost", name, number))
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["receipt_id"])

    shipped = await ship(portal, "usps", number)
    checkpoints = await shipped.checkpoints()
    assert [c["message"] for c in checkpoints] == [
        "Shipping Label Created, USPS Awaiting Item",
        "Accepted at USPS Origin Facility",
        "Arrived at USPS Regional Facility",
        "Out for Delivery",
    ]
    assert (await shipped.order())["status"] == "out_for_delivery"
    for receipt_id in ids:
        assert (await receipt(portal, receipt_id)).outcome == "applied"


async def test_a_webhook_naming_a_known_and_an_unknown_number_stays_unmatched_until_both_exist(
    portal: Portal,
) -> None:
    first = await ship(portal, "dhl")
    later = new_tracking_number("JD")
    now = portal.clock()
    events = [
        json.loads(generic_body(first.tracking_number, "in_transit", now, "Sorted")),
        json.loads(generic_body(later, "in_transit", now, "Sorted too")),
    ]
    answer = await deliver(portal, "generic", json.dumps({"events": events}).encode())
    assert answer.status_code == 202, answer.text
    assert answer.json()["unmatched"] == [later]
    assert [c["message"] for c in await first.checkpoints()] == ["Sorted"]

    second = await ship(portal, "dhl", later)
    assert [c["message"] for c in await second.checkpoints()] == ["Sorted too"]
    assert (await receipt(portal, answer.json()["receipt_id"])).outcome == "applied"
    # The first shipment did not get its checkpoint twice.
    assert [c["message"] for c in await first.checkpoints()] == ["Sorted"]
    async with portal.runtime.db.read() as session:
        outcomes = (await session.execute(select(col(WebhookReceipt.outcome)))).scalars().all()
    assert list(outcomes) == ["applied"]


async def test_a_webhook_arriving_while_the_shop_registers_its_shipment_is_not_lost(
    portal: Portal,
) -> None:
    """The shipment is registered (not yet committed) when the webhook looks it up."""
    runtime = portal.runtime
    order = await portal.create_order()
    number = new_tracking_number("JD")
    uow = runtime.new_uow()
    async with runtime.db.write() as session:
        locked = await lock_order(session, order["order_number"])
        shipment = await order_service.add_shipment(
            session,
            uow,
            locked,
            ShipmentCreate(carrier="dhl", tracking_number=number),
            now=portal.clock(),
            source="test",
        )
        await runtime.on_shipment_registered(session, uow, locked, shipment)
        # The carrier's webhook arrives now, while this transaction is still open.
        webhook = asyncio.create_task(
            deliver(
                portal,
                "generic",
                generic_body(number, "in_transit", portal.clock(), "Picked up in Leipzig"),
            )
        )
        await asyncio.sleep(0.5)
        assert not webhook.done()
    await runtime.after_commit(uow)
    answer = await asyncio.wait_for(webhook, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "applied"
    detail = await portal.get(f"/api/v1/orders/{order['order_number']}")
    checkpoints = [e for e in detail.json()["events"] if e["kind"] == "checkpoint"]
    assert [c["message"] for c in checkpoints] == ["Picked up in Leipzig"]
    assert detail.json()["status"] == "in_transit"
