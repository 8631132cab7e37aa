"""Customer forms: CSRF failures are 403 (a cross-site post too) and change nothing; a GET of the
tracking page never writes in its own path."""

from __future__ import annotations

import re
import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from portal.models import Feedback, Order, ShareLink
from portal.security import hash_token
from portal.settings import Settings
from tests.eventually import eventually
from tests.integration.conftest import Portal
from tests.integration.harden.test_database_busy import other_writer
from tests.integration.test_pages import deliver, path_of

CROSS_SITE = {"Sec-Fetch-Site": "cross-site"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, db_busy_timeout=0.3)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


async def opted_out(portal: Portal, number: str) -> str:
    async with portal.runtime.db.read() as session:
        order = (
            await session.execute(select(Order).where(Order.order_number == number))
        ).scalar_one()
    return order.opt_out_channels


async def test_the_lookup_form_needs_its_token_and_a_same_site_post(portal: Portal) -> None:
    order = await portal.create_order()
    data = {"order_number": order["order_number"], "email": "ada@example.com"}
    csrf = csrf_of((await portal.client.get("/track")).text)
    assert (await portal.client.post("/track", data=data)).status_code == 403
    assert (
        await portal.client.post("/track", data={**data, "csrf_token": "1.x"})
    ).status_code == 403
    cross = await portal.client.post(
        "/track", data={**data, "csrf_token": csrf}, headers=CROSS_SITE
    )
    assert cross.status_code == 403
    stale = "1000." + csrf.split(".", 1)[1]
    assert (
        await portal.client.post("/track", data={**data, "csrf_token": stale})
    ).status_code == 403
    ok = await portal.client.post(
        "/track", data={**data, "csrf_token": csrf}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert ok.status_code == 200


async def test_unsubscribe_needs_its_token_but_one_click_does_not(portal: Portal) -> None:
    order = await portal.create_order()
    path = path_of(order["tracking_url"]) + "/unsubscribe"
    csrf = csrf_of((await portal.client.get(path)).text)
    assert (await portal.client.post(path, data={"channel": "sms"})).status_code == 403
    cross = await portal.client.post(
        path, data={"channel": "sms", "csrf_token": csrf}, headers=CROSS_SITE
    )
    assert cross.status_code == 403
    assert await opted_out(portal, order["order_number"]) == ""
    ok = await portal.client.post(path, data={"channel": "sms", "csrf_token": csrf})
    assert ok.status_code == 200 and await opted_out(portal, order["order_number"]) == "sms"
    one_click = await portal.client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert await opted_out(portal, order["order_number"]) == "email,sms"


async def test_feedback_refuses_a_cross_site_post_with_a_good_token(portal: Portal) -> None:
    order = await portal.create_order()
    path = path_of(order["tracking_url"])
    await deliver(portal, order["order_number"])
    csrf = csrf_of((await portal.client.get(path)).text)
    answer = await portal.client.post(
        path, data={"csrf_token": csrf, "rating": "5"}, headers=CROSS_SITE
    )
    assert answer.status_code == 403
    missing = await portal.client.post(path, data={"rating": "5"})
    assert missing.status_code == 403
    async with portal.runtime.db.read() as session:
        assert list((await session.execute(select(Feedback))).scalars()) == []


async def use_count(portal: Portal, token: str) -> int:
    async with portal.runtime.db.read() as session:
        link = (
            await session.execute(
                select(ShareLink).where(ShareLink.token_hash == hash_token(token))
            )
        ).scalar_one()
    return link.use_count


async def test_a_page_view_is_answered_while_the_database_is_locked_and_counted_later(
    portal: Portal, settings: Settings
) -> None:
    if not settings.is_sqlite:
        pytest.skip("a file lock held by another process is SQLite's")
    order = await portal.create_order()
    path = path_of(order["tracking_url"])
    token = path.rsplit("/", 1)[1]
    with other_writer(settings.database_url):
        started = time.monotonic()
        page = await portal.client.get(path)
        took = time.monotonic() - started
    assert page.status_code == 200, page.text
    assert order["order_number"] in page.text
    assert took < settings.db_busy_timeout
    # Counted off the GET's path: this view again, once the database takes writes.
    await portal.client.get(path)

    async def counted() -> bool:
        return await use_count(portal, token) >= 1

    await eventually(counted)
