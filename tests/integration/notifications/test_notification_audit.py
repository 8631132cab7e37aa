"""`portal audit` (audit_all): orders and their notices agree after a normal flow."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col

from portal.models import Notification
from portal.notify.rules import Rules
from portal.services.audit import audit_all
from tests.integration.notifications.conftest import Harness, days
from tests.integration.webhook_helpers import send_generic

DHL_NUMBER = "JD014600003828"


async def _normal_flow(harness: Harness) -> str:
    order = await harness.create_order()
    number = order["order_number"]
    base = f"/api/v1/orders/{number}"
    await harness.post(base + "/status", {"status": "processing"})
    await harness.drain()
    await harness.post(
        base + "/shipments",
        {"carrier": "dhl", "tracking_number": DHL_NUMBER, "estimated_delivery": days(4)},
    )
    await harness.post(
        base + "/delays",
        {"reason_code": "customs", "message": "Held at customs", "new_estimated_delivery": days(6)},
    )
    await harness.drain()
    answer = await send_generic(harness.portal, DHL_NUMBER, "delivered", "Delivered")
    assert answer.status_code in (200, 202), answer.text
    await harness.drain()
    return number


async def test_clean_after_a_normal_flow_and_a_deleted_notice_is_missing(
    harness: Harness,
) -> None:
    number = await _normal_flow(harness)
    db = harness.portal.runtime.db
    rows = await harness.rows(number)
    assert {r.state for r in rows} == {"sent"}
    assert await audit_all(db, Rules.default(), harness.clock()) == []

    shipping = await harness.row(number, "shipping", "email")
    async with db.write() as session:
        await session.execute(delete(Notification).where(col(Notification.id) == shipping.id))
    findings = await audit_all(db, Rules.default(), harness.clock())
    assert findings == [
        {
            "order_number": number,
            "problem": f"missing shipping by email notice ({shipping.idempotency_key})",
        }
    ]


async def test_reports_dead_and_overdue_notices(harness: Harness) -> None:
    order = await harness.create_order(phone=None)
    number = order["order_number"]
    db = harness.portal.runtime.db
    assert await audit_all(db, Rules.default(), harness.clock()) == []  # pending, not late
    harness.clock.advance(hours=2)
    [finding] = await audit_all(db, Rules.default(), harness.clock())
    assert finding["order_number"] == number
    assert finding["problem"].startswith("order_confirmation by email overdue since")


async def test_a_parcel_returned_after_going_out_for_delivery_is_not_a_finding(
    harness: Harness,
) -> None:
    # The out-for-delivery notice was true when sent; the return that followed does not make it
    # a notice that "says more than the order".
    order = await harness.create_order()
    number = order["order_number"]
    base = f"/api/v1/orders/{number}"
    await harness.post(base + "/shipments", {"carrier": "dhl", "tracking_number": DHL_NUMBER})
    await send_generic(harness.portal, DHL_NUMBER, "out_for_delivery", "On the van")
    await harness.drain()
    harness.clock.advance(hours=1)
    answer = await send_generic(harness.portal, DHL_NUMBER, "returned_to_sender", "Refused")
    assert answer.status_code in (200, 202), answer.text
    assert (await harness.portal.get(base)).json()["status"] == "returned"
    await harness.drain()
    sent = [r for r in await harness.rows(number) if r.milestone == "out_for_delivery"]
    assert {r.state for r in sent} == {"sent"}
    assert await audit_all(harness.portal.runtime.db, Rules.default(), harness.clock()) == []
