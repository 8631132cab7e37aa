"""Every carrier configured (two secrets each, for rotation), and a shipment to aim webhooks at."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from portal.settings import Settings
from tests.integration.conftest import Portal
from tests.integration.webhooks.carrier_payloads import SECRETS, new_tracking_number


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, webhook_secrets=dict(SECRETS))


@dataclass
class Shipped:
    """An order placed and shipped through the API, with the helpers tests read it through."""

    portal: Portal
    order_number: str
    tracking_number: str
    carrier: str
    tracking_url: str

    async def order(self) -> dict[str, Any]:
        answer = await self.portal.get(f"/api/v1/orders/{self.order_number}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def checkpoints(self) -> list[dict[str, Any]]:
        return [e for e in (await self.order())["events"] if e["kind"] == "checkpoint"]

    async def notifications(self) -> list[dict[str, Any]]:
        answer = await self.portal.get(f"/api/v1/orders/{self.order_number}/notifications")
        assert answer.status_code == 200, answer.text
        return answer.json()["notifications"]


async def ship(
    portal: Portal,
    carrier: str,
    tracking_number: str | None = None,
    *,
    estimated_delivery: str | None = None,
    expect: int = 201,
) -> Shipped:
    order = await portal.create_order()
    number = tracking_number or new_tracking_number()
    body: dict[str, Any] = {"carrier": carrier, "tracking_number": number}
    if estimated_delivery is not None:
        body["estimated_delivery"] = estimated_delivery
    answer = await portal.post(f"/api/v1/orders/{order['order_number']}/shipments", body)
    assert answer.status_code == expect, answer.text
    return Shipped(portal, order["order_number"], number, carrier, order["tracking_url"])


@pytest.fixture
async def shipped(portal: Portal) -> Shipped:
    return await ship(portal, "dhl")
