from __future__ import annotations

import gc

from portal.app import create_app
from portal.settings import Settings
from tests.integration.conftest import Portal, migrated


async def test_create_and_view(portal: Portal) -> None:
    order = await portal.create_order()
    assert order["status"] == "placed"
    url = order["tracking_url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = await portal.client.get("/" + path)
    assert page.status_code == 200, page.text
    assert order["order_number"] in page.text


async def test_a_server_moves_its_start_up_heap_out_of_the_collectors_reach(
    settings: Settings,
) -> None:
    await migrated(settings.database_url)
    app = create_app(settings, dispatcher=False, freeze_heap=True)
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
