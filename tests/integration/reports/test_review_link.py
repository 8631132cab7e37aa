"""The counted review link and the first estimate, through the real API, webhooks and pages."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models_reports import ReviewClick
from portal.settings import Settings
from tests.integration.conftest import Portal
from tests.integration.webhook_helpers import send_generic

REVIEW_URL = "https://reviews.example/our-shop"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, review_url=REVIEW_URL)


async def delivered_order(portal: Portal) -> tuple[str, str]:
    order = await portal.create_order()
    number = order["order_number"]
    today = portal.clock().date()
    shipped = await portal.post(
        f"/api/v1/orders/{number}/shipments",
        {
            "carrier": "dhl",
            "tracking_number": "JD0146" + number[1:],
            "estimated_delivery": (today + timedelta(days=4)).isoformat(),
        },
    )
    assert shipped.status_code == 201, shipped.text
    tracking = "JD0146" + number[1:]
    later = (today + timedelta(days=2)).isoformat()
    moved = await send_generic(portal, tracking, "in_transit", "Hub", estimated_delivery=later)
    assert moved.status_code == 200, moved.text
    portal.clock.advance(minutes=5)
    done = await send_generic(portal, tracking, "delivered", "Left at the door")
    assert done.status_code == 200, done.text
    return number, order["tracking_url"]


async def test_a_click_is_counted_and_redirected(portal: Portal) -> None:
    _, tracking_url = await delivered_order(portal)
    page = await portal.client.get(tracking_url)
    assert page.status_code == 200
    links = re.findall(r'href="([^"]*/review/[^"]+)"', page.text)
    assert links and all("via=page" in link for link in links)
    assert REVIEW_URL not in page.text
    path = links[0].replace(portal.runtime.settings.base_url, "").replace("&amp;", "&")
    answer = await portal.client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == REVIEW_URL
    async with portal.runtime.db.read() as session:
        clicks = (await session.execute(select(ReviewClick))).scalars().all()
    assert [(c.via, c.clicked_at) for c in clicks] == [("page", portal.clock())]

    body = (await portal.get("/api/v1/reports")).json()
    [dhl] = body["feedback_by_carrier"]
    assert dhl["carrier"] == "dhl" and dhl["delivered_orders"] == 1
    assert (dhl["review_clicks"], dhl["responses"], dhl["response_rate"]) == (1, 1, 1.0)
    # The first estimate (in four days) is kept though the carrier moved it to two days:
    # delivered today, it was four days out.
    [eta] = body["eta_accuracy_by_carrier"]
    assert (eta["carrier"], eta["delivered"], eta["mae_days"], eta["exact_share"]) == (
        "dhl",
        1,
        4.0,
        0.0,
    )


async def test_a_forged_link_counts_nothing(portal: Portal) -> None:
    number, _ = await delivered_order(portal)
    for path in (f"/review/{number}/{'0' * 32}", f"/review/NOPE/{'0' * 32}"):
        answer = await portal.client.get(path)
        assert answer.status_code == 404
        assert "not valid" in answer.text
    async with portal.runtime.db.read() as session:
        assert (await session.execute(select(ReviewClick))).first() is None
