from __future__ import annotations

import gc

from portal.app import SERVER_GC_THRESHOLDS, create_app
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


async def test_a_server_tunes_the_garbage_collector_while_it_runs(settings: Settings) -> None:
    await migrated(settings.database_url)
    app = create_app(settings, dispatcher=False, freeze_heap=True)
    before = gc.get_threshold()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000  # the start-up heap is out of reach
            assert gc.get_threshold() == SERVER_GC_THRESHOLDS
        assert gc.get_threshold() == before
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
