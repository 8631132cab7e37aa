"""`portal demo` leaves interactions and a revoked link on its orders (portal.demo_console)."""

from __future__ import annotations

from typing import Any

import httpx

from portal.demo_console import seed_console
from tests.integration.conftest import Portal


async def test_demo_orders_have_interactions_and_a_revoked_link(portal: Portal) -> None:
    numbers = [(await portal.create_order())["order_number"] for _ in range(4)]

    async def api(method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        return await portal.client.request(method, path, json=body, headers=portal.auth)

    await seed_console(api, numbers)
    logged = (await portal.get(f"/api/v1/orders/{numbers[2]}/interactions")).json()
    assert len(logged["interactions"]) == 2
    links = (await portal.get(f"/api/v1/orders/{numbers[0]}/links")).json()["links"]
    assert [link["revoked_at"] is not None for link in links] == [True, False]
