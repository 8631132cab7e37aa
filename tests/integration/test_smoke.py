from __future__ import annotations

from tests.integration.conftest import Portal


async def test_create_and_view(portal: Portal) -> None:
    order = await portal.create_order()
    assert order["status"] == "placed"
    url = order["tracking_url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = await portal.client.get("/" + path)
    assert page.status_code == 200, page.text
    assert order["order_number"] in page.text
