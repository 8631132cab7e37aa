"""Report periods in the shop's time zone (PORTAL_SHOP_TIMEZONE), and no review URL set."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from portal.settings import Settings
from tests.integration.conftest import Portal

from .seed import TODAY, at
from .test_review_link import delivered_order


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, shop_timezone="Pacific/Kiritimati", review_url=None)


async def test_the_shop_time_zone_setting_sets_the_period(portal: Portal) -> None:
    portal.clock.now = at(TODAY, hour=20)  # already tomorrow at UTC+14
    body = (await portal.get("/api/v1/reports")).json()
    assert body["period"]["timezone"] == "Pacific/Kiritimati"
    assert body["period"]["to"] == (TODAY + timedelta(days=1)).isoformat()


async def test_without_a_review_url_there_is_no_redirect(portal: Portal) -> None:
    number, tracking_url = await delivered_order(portal)
    page = await portal.client.get(tracking_url)
    assert page.status_code == 200 and "/review/" not in page.text
    assert (await portal.client.get(f"/review/{number}/{'0' * 32}")).status_code == 404
