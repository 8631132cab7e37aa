"""Redeliveries, concurrent duplicates, late checkpoints and repeated history."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from portal.models import OrderEvent, Shipment, WebhookReceipt
from portal.services.timeline import lock_order
from tests.integration.conftest import Portal
from tests.integration.webhooks.carrier_payloads import (
    deliver,
    generic_body,
    retarget,
    shifted,
    sign,
)
from tests.integration.webhooks.conftest import Shipped, ship


async def count_events(portal: Portal) -> int:
    async with portal.runtime.db.read() as session:
        return int((await session.execute(select(func.count(col(OrderEvent.id))))).scalar_one())


async def count_receipts(portal: Portal, outcome: str | None = None) -> int:
    stmt = select(func.count(col(WebhookReceipt.id)))
    if outcome is not None:
        stmt = stmt.where(col(WebhookReceipt.outcome) == outcome)
    async with portal.runtime.db.read() as session:
        return int((await session.execute(stmt)).scalar_one())


async def test_the_same_delivery_twice_is_a_duplicate_with_no_effect(
    portal: Portal, shipped: Shipped
) -> None:
    body = retarget("aftership", "out_for_delivery", shipped.tracking_number)
    signed = sign(portal, "aftership", body)
    first = await deliver(portal, "aftership", body, signed=signed)
    assert first.status_code == 200 and first.json()["outcome"] == "applied"
    events, notices = await count_events(portal), len(await shipped.notifications())

    again = await deliver(portal, "aftership", body, signed=signed)
    assert again.status_code == 200, again.text
    assert again.json()["outcome"] == "duplicate"
    assert again.json()["events"] == 0
    assert again.json()["receipt_id"] == first.json()["receipt_id"]
    assert await count_events(portal) == events
    assert len(await shipped.notifications()) == notices
    assert await count_receipts(portal) == 1


async def test_twenty_identical_deliveries_at_once_have_exactly_one_effect(
    portal: Portal, shipped: Shipped
) -> None:
    body = retarget("easypost", "out_for_delivery", shipped.tracking_number)
    signed = sign(portal, "easypost", body)
    before = await count_events(portal)

    answers = await asyncio.gather(
        *(deliver(portal, "easypost", body, signed=signed) for _ in range(20))
    )
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers]
    outcomes = sorted(a.json()["outcome"] for a in answers)
    assert outcomes == ["applied"] + ["duplicate"] * 19
    # 4 checkpoints, the order's status change to out_for_delivery, and the ETA the
    # carrier gave: recorded once.
    order = await shipped.order()
    checkpoints = [e for e in order["events"] if e["kind"] == "checkpoint"]
    assert len(checkpoints) == 4
    assert [e["status"] for e in order["events"] if e["kind"] == "status"].count(
        "out_for_delivery"
    ) == 1
    assert await count_events(portal) - before == 6
    assert sum(e["kind"] == "eta" for e in order["events"]) == 1
    assert await count_receipts(portal) == 1
    seqs = [e["seq"] for e in order["events"]]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_concurrent_different_checkpoints_for_one_shipment_all_apply(
    portal: Portal, shipped: Shipped
) -> None:
    start = portal.clock() - timedelta(hours=10)
    bodies = [
        generic_body(shipped.tracking_number, "in_transit", start + timedelta(hours=i), f"Scan {i}")
        for i in range(8)
    ]
    bodies.append(
        generic_body(
            shipped.tracking_number, "out_for_delivery", start + timedelta(hours=9), "On the van"
        )
    )
    answers = await asyncio.gather(*(deliver(portal, "generic", body) for body in bodies))
    assert all(a.status_code == 200 and a.json()["outcome"] == "applied" for a in answers)
    order = await shipped.order()
    assert len([e for e in order["events"] if e["kind"] == "checkpoint"]) == 9
    # Whatever order they were applied in, the newest checkpoint sets the status.
    assert order["status"] == "out_for_delivery"
    assert order["shipments"][0]["status"] == "out_for_delivery"
    seqs = [e["seq"] for e in order["events"]]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_an_older_checkpoint_after_a_newer_one_is_kept_in_place_and_moves_nothing(
    portal: Portal, shipped: Shipped
) -> None:
    newer = shifted("2027-03-03T07:00:00+00:00")
    older = newer - timedelta(hours=20)
    answer = await deliver(
        portal,
        "generic",
        generic_body(shipped.tracking_number, "out_for_delivery", newer, "Out for delivery"),
    )
    assert answer.json()["outcome"] == "applied"
    answer = await deliver(
        portal,
        "generic",
        generic_body(
            shipped.tracking_number,
            "in_transit",
            older,
            "Arrived at the sorting centre",
            location={"city": "Halle", "region": "ST", "country": "DE"},
        ),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "applied" and answer.json()["events"] == 1

    order = await shipped.order()
    assert order["status"] == "out_for_delivery"
    assert order["shipments"][0]["status"] == "out_for_delivery"
    late = next(e for e in order["events"] if e["message"] == "Arrived at the sorting centre")
    assert late["applied"] is False
    assert late["location"] == "Halle, ST, DE"
    assert late["occurred_at"] == older.isoformat().replace("+00:00", "Z")
    statuses = [e["status"] for e in order["events"] if e["kind"] == "status"]
    assert "in_transit" not in statuses and statuses[-1] == "out_for_delivery"

    # In the timeline (by occurred_at) it sits before the newer checkpoint, though recorded after.
    by_time = sorted(order["events"], key=lambda e: (e["occurred_at"], e["seq"]))
    positions = [e["message"] for e in by_time if e["kind"] == "checkpoint"]
    assert positions == ["Arrived at the sorting centre", "Out for delivery"]
    page = await portal.client.get(shipped.tracking_url)
    assert page.status_code == 200
    # The customer's timeline is newest first.
    shown = re.findall(r'class="event-message">([^<]+)<', page.text)
    assert shown.index("Out for delivery") < shown.index("Arrived at the sorting centre")


async def test_a_payload_repeating_the_whole_history_adds_only_new_checkpoints(
    portal: Portal,
) -> None:
    shipped = await ship(portal, "usps")
    first = await deliver(
        portal, "easypost", retarget("easypost", "in_transit", shipped.tracking_number)
    )
    assert first.json()["events"] == 3
    before = [(c["seq"], c["message"]) for c in await shipped.checkpoints()]

    second = await deliver(
        portal, "easypost", retarget("easypost", "out_for_delivery", shipped.tracking_number)
    )
    assert second.json()["outcome"] == "applied"
    assert second.json()["events"] == 1
    after = await shipped.checkpoints()
    assert [(c["seq"], c["message"]) for c in after[: len(before)]] == before
    assert [c["message"] for c in after[len(before) :]] == ["Out for Delivery"]

    third = await deliver(
        portal, "easypost", retarget("easypost", "delivered", shipped.tracking_number)
    )
    assert third.json()["events"] == 1
    assert len(await shipped.checkpoints()) == 5
    assert (await shipped.order())["status"] == "delivered"


async def test_aftership_repeating_history_adds_only_new_checkpoints(portal: Portal) -> None:
    shipped = await ship(portal, "dhl")
    first = await deliver(
        portal, "aftership", retarget("aftership", "in_transit", shipped.tracking_number)
    )
    assert first.json()["events"] == 4
    second = await deliver(
        portal, "aftership", retarget("aftership", "delivered", shipped.tracking_number)
    )
    assert second.json()["events"] == 2
    checkpoints = await shipped.checkpoints()
    assert len(checkpoints) == 6
    assert all(c["applied"] for c in checkpoints)
    assert (await shipped.order())["status"] == "delivered"


# PostgreSQL only: SQLite runs one write transaction at a time, so no webhook waits for a lock.
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_a_checkpoint_that_waited_for_the_order_lock_sees_the_shipment_as_committed(
    portal: Portal, shipped: Shipped
) -> None:
    """PostgreSQL runs writers side by side: a webhook that waits for another transaction's
    order lock must then judge its checkpoint against the shipment that transaction left."""
    db = portal.runtime.db
    assert db.is_postgres
    newer = portal.clock() - timedelta(hours=1)
    older = newer - timedelta(hours=2)
    async with db.write() as session:
        await lock_order(session, shipped.order_number)
        await session.execute(
            update(Shipment)
            .where(col(Shipment.tracking_number) == shipped.tracking_number)
            .values(
                status="out_for_delivery", milestone="out_for_delivery", status_occurred_at=newer
            )
        )
        late = asyncio.create_task(
            deliver(
                portal,
                "generic",
                generic_body(shipped.tracking_number, "in_transit", older, "Sorted"),
            )
        )
        await asyncio.sleep(0.5)
        assert not late.done(), "the webhook should be waiting for the order's lock"
    answer = await late
    assert answer.status_code == 200, answer.text
    assert answer.json()["events"] == 1
    async with db.read() as session:
        shipment = (
            await session.execute(
                select(Shipment).where(col(Shipment.tracking_number) == shipped.tracking_number)
            )
        ).scalar_one()
    assert (shipment.status, shipment.status_occurred_at) == ("out_for_delivery", newer)
    [sorted_scan] = [e for e in await shipped.checkpoints() if e["message"] == "Sorted"]
    assert sorted_scan["applied"] is False
