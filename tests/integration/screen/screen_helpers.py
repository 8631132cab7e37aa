"""Orders in the states the order screen shows, and a dispatcher to send their notices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from portal.models import Notification, Order
from portal.models_crm import Interaction
from portal.services.dispatch import Dispatcher, build_channels
from tests.integration.conftest import Portal, order_body
from tests.integration.notifications.conftest import zone_at_local_hour
from tests.integration.webhook_helpers import send_generic


async def shipped_order(portal: Portal, **customer: Any) -> tuple[str, str, str]:
    """An order (customer at midday, so no notice waits for the morning) that shipped with
    DHL and had a checkpoint in Leipzig; (order number, tracking number, share token)."""
    body = order_body()
    body["customer"] = {
        **body["customer"],
        "timezone": zone_at_local_hour(portal.clock(), 12),
        **customer,
    }
    created = await portal.post("/api/v1/orders", body)
    assert created.status_code == 201, created.text
    number = body["order_number"]
    tracking = "JD" + number[1:] + "01"
    today = portal.clock().date()
    shipped = await portal.post(
        f"/api/v1/orders/{number}/shipments",
        {
            "carrier": "dhl",
            "tracking_number": tracking,
            "estimated_delivery": (today + timedelta(days=3)).isoformat(),
        },
    )
    assert shipped.status_code == 201, shipped.text
    answer = await send_generic(portal, tracking, "in_transit", "Departed hub")
    assert answer.status_code == 200, answer.text
    return number, tracking, created.json()["tracking_url"].rsplit("/", 1)[1]


async def drain(portal: Portal) -> int:
    """Send every due notification through the log-file channels; how many were claimed."""
    settings = portal.runtime.settings
    dispatcher = Dispatcher(
        portal.runtime.db, settings, build_channels(settings), clock=portal.clock
    )
    total = 0
    for _ in range(50):
        claimed = await dispatcher.run_once()
        total += claimed
        if not claimed:
            return total
    raise AssertionError("the dispatcher kept finding due rows")


async def order_row(portal: Portal, number: str) -> Order:
    async with portal.runtime.db.read() as session:
        return (
            await session.execute(select(Order).where(col(Order.order_number) == number))
        ).scalar_one()


async def notifications_of(portal: Portal, number: str) -> list[Notification]:
    order = await order_row(portal, number)
    async with portal.runtime.db.read() as session:
        rows = await session.execute(
            select(Notification)
            .where(col(Notification.order_id) == order.id)
            .order_by(col(Notification.id))
        )
        return list(rows.scalars())


async def crm_of(portal: Portal, number: str) -> list[Interaction]:
    order = await order_row(portal, number)
    async with portal.runtime.db.read() as session:
        rows = await session.execute(
            select(Interaction)
            .where(col(Interaction.order_id) == order.id)
            .order_by(col(Interaction.id))
        )
        return list(rows.scalars())
