"""The customer's delay choice: recorded, changeable until staff act, refused cleanly otherwise."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlmodel import col

from portal.models import OrderEvent
from portal.models_crm import Interaction
from portal.models_records import DelayChoice
from tests.integration.conftest import Portal
from tests.integration.staff_helpers import csrf_in


def _days(n: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=n)).isoformat()


class Delayed:
    """An order with an open delay offering a pickup point or cancellation."""

    def __init__(self, portal: Portal, number: str, token: str, delay_id: int) -> None:
        self.portal, self.number, self.token, self.delay_id = portal, number, token, delay_id

    @property
    def choice_path(self) -> str:
        return f"/t/{self.token}/delays/{self.delay_id}/choice"

    async def csrf(self) -> str:
        page = await self.portal.client.get(f"/t/{self.token}")
        assert page.status_code == 200
        return csrf_in(page.text.split('id="delay-banner"', 1)[1])

    async def choose(self, alternative: str, **extra: str) -> httpx.Response:
        form = {"alternative": alternative, "csrf_token": await self.csrf(), **extra}
        return await self.portal.client.post(self.choice_path, data=form)

    async def delay(self) -> dict[str, Any]:
        order = (await self.portal.get(f"/api/v1/orders/{self.number}")).json()
        [delay] = order["delays"]
        return dict(delay)

    async def rows(self) -> tuple[list[Interaction], list[OrderEvent], DelayChoice | None]:
        async with self.portal.runtime.db.read() as session:
            crm = list(
                (
                    await session.execute(
                        select(Interaction).where(col(Interaction.action) == "delay_choice")
                    )
                ).scalars()
            )
            notes = list(
                (
                    await session.execute(select(OrderEvent).where(col(OrderEvent.kind) == "note"))
                ).scalars()
            )
            choice = (await session.execute(select(DelayChoice))).scalar_one_or_none()
        return crm, notes, choice


async def delayed_order(portal: Portal) -> Delayed:
    created = await portal.create_order()
    number = created["order_number"]
    base = f"/api/v1/orders/{number}"
    shipped = await portal.post(
        base + "/shipments", {"carrier": "dhl", "tracking_number": "JD" + uuid.uuid4().hex[:12]}
    )
    assert shipped.status_code == 201, shipped.text
    delay = await portal.post(
        base + "/delays",
        {
            "reason_code": "weather",
            "message": "Snow closed the depot",
            "new_estimated_delivery": _days(6),
            "compensation": "10% refund of shipping",
            "alternatives": ["pickup_point", "cancel"],
        },
    )
    assert delay.status_code == 201, delay.text
    token = created["tracking_url"].rsplit("/t/", 1)[1]
    return Delayed(portal, number, token, delay.json()["id"])


async def test_the_page_offers_the_alternatives_as_buttons(portal: Portal) -> None:
    order = await delayed_order(portal)
    page = (await portal.client.get(f"/t/{order.token}")).text
    assert 'name="alternative" value="pickup_point"' in page
    assert 'name="alternative" value="cancel"' in page
    assert f'name="delay" value="{order.delay_id}"' in page
    assert (await order.delay())["customer_choice"] is None


async def test_a_choice_is_recorded_then_changed(portal: Portal) -> None:
    order = await delayed_order(portal)
    answer = await order.choose("pickup_point")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/t/{order.token}?choice=1"
    delay = await order.delay()
    assert delay["id"] == order.delay_id and delay["customer_choice"] == "pickup_point"
    crm, notes, choice = await order.rows()
    assert [c.summary for c in crm] == [
        "Customer chose 'collect the parcel from a pickup point' for the weather delay "
        "(offered: 10% refund of shipping)"
    ]
    assert crm[0].channel == "web" and crm[0].direction == "inbound" and crm[0].staff == "customer"
    assert [n.message for n in notes] == [
        "You chose: collect the parcel from a pickup point. We will be in touch to arrange it."
    ]
    assert choice is not None and choice.alternative == "pickup_point" and choice.changes == 0
    page = (await portal.client.get(answer.headers["location"])).text
    assert "we have your choice" in page and "You can still change it" in page
    assert 'value="pickup_point" aria-pressed="true"' in page

    assert (await order.choose("pickup_point")).status_code == 303  # the same again: no news
    assert len((await order.rows())[0]) == 1

    assert (await order.choose("cancel")).status_code == 303
    assert (await order.delay())["customer_choice"] == "cancel"
    crm, notes, choice = await order.rows()
    assert len(crm) == 2 and "changed the choice" in crm[1].summary and len(notes) == 2
    assert choice is not None and choice.changes == 1


async def test_the_page_form_is_forwarded_to_the_choice(portal: Portal) -> None:
    order = await delayed_order(portal)
    form = {"alternative": "cancel", "delay": str(order.delay_id), "csrf_token": await order.csrf()}
    forwarded = await portal.client.post(f"/t/{order.token}", data=form)
    assert forwarded.status_code == 307
    assert forwarded.headers["location"] == order.choice_path
    done = await portal.client.post(f"/t/{order.token}", data=form, follow_redirects=True)
    assert done.status_code == 200 and "we have your choice" in done.text
    assert (await order.delay())["customer_choice"] == "cancel"


async def test_refused_once_staff_acted(portal: Portal, agent: Any) -> None:
    order = await delayed_order(portal)
    assert (await order.choose("pickup_point")).status_code == 303
    csrf = await order.csrf()  # kept from the page, as a browser would have it
    screen = (await agent.get(f"/support/orders/{order.number}")).text
    handled_path = f"/support/orders/{order.number}/delays/{order.delay_id}/choice/handled"
    assert "Collect the parcel from a pickup point" in screen and handled_path in screen
    assert "10% refund of shipping" in screen
    acted = await agent.post_form(
        f"/support/orders/{order.number}/delays/{order.delay_id}/choice/handled", {}
    )
    assert acted.status_code == 303, acted.text
    crm, notes, choice = await order.rows()
    assert (
        notes[-1].message == "We are arranging your choice: collect the parcel from a pickup point."
    )
    assert choice is not None and choice.handled_by == agent.email
    assert crm[-1].staff == agent.email and crm[-1].direction == "outbound"
    page = (await portal.client.get(f"/t/{order.token}")).text
    assert "Our team is arranging it" in page and 'name="alternative"' not in page
    screen = (await agent.get(f"/support/orders/{order.number}")).text
    assert "being arranged" in screen and handled_path not in screen

    late = await portal.client.post(
        order.choice_path, data={"alternative": "cancel", "csrf_token": csrf}
    )
    assert late.status_code == 409 and "already arranging your choice" in late.text
    assert (await order.delay())["customer_choice"] == "pickup_point"
    assert len((await order.rows())[0]) == 2


async def test_a_bad_alternative_is_400_and_changes_nothing(portal: Portal) -> None:
    order = await delayed_order(portal)
    for alternative in ("teleport", "", "refund"):  # refund exists, but was not offered
        answer = await order.choose(alternative)
        assert answer.status_code == 400, alternative
        assert "not one of the offered choices" in answer.text
    assert (await order.delay())["customer_choice"] is None
    crm, notes, choice = await order.rows()
    assert crm == [] and notes == [] and choice is None


async def test_csrf_and_unknown_delays_are_refused(portal: Portal) -> None:
    order = await delayed_order(portal)
    missing = await portal.client.post(order.choice_path, data={"alternative": "cancel"})
    wrong = await portal.client.post(
        order.choice_path, data={"alternative": "cancel", "csrf_token": "0" * 64}
    )
    cross = await portal.client.post(
        order.choice_path,
        data={"alternative": "cancel", "csrf_token": await order.csrf()},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert [missing.status_code, wrong.status_code, cross.status_code] == [403, 403, 403]
    other = await delayed_order(portal)
    foreign = await portal.client.post(
        f"/t/{order.token}/delays/{other.delay_id}/choice",
        data={"alternative": "cancel", "csrf_token": await order.csrf()},
    )
    assert foreign.status_code == 404
    gone = await portal.client.post(
        f"/t/not-a-real-token-at-all/delays/{order.delay_id}/choice",
        data={"alternative": "cancel"},
    )
    assert gone.status_code == 404
    assert (await order.delay())["customer_choice"] is None
    assert (await other.delay())["customer_choice"] is None
    assert (await order.rows())[0] == []


async def _inquiry(portal: Portal, inquiry_id: int) -> dict[str, Any]:
    answer = await portal.get(f"/api/v1/inquiries/{inquiry_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_choice_opens_a_high_priority_inquiry_and_a_reply_locks_it(
    portal: Portal,
) -> None:
    order = await delayed_order(portal)
    assert (await order.choose("pickup_point")).status_code == 303
    _, _, choice = await order.rows()
    assert choice is not None and choice.inquiry_id is not None
    inquiry = await _inquiry(portal, choice.inquiry_id)
    assert inquiry["order_number"] == order.number and inquiry["state"] == "open"
    assert inquiry["priority"] in ("high", "urgent") and inquiry["channel"] == "web"
    assert [m["body"] for m in inquiry["messages"]] == [
        "My choice for the delay: collect the parcel from a pickup point."
    ]
    queue = (await portal.get("/api/v1/inquiries?state=open")).json()
    assert choice.inquiry_id in [i["id"] for i in queue["inquiries"]]

    assert (await order.choose("cancel")).status_code == 303  # the same inquiry hears of it
    _, _, changed = await order.rows()
    assert changed is not None and changed.inquiry_id == choice.inquiry_id
    inquiry = await _inquiry(portal, choice.inquiry_id)
    assert [m["body"] for m in inquiry["messages"]][-1] == (
        "My choice for the delay: cancel the order for a full refund."
    )

    csrf = await order.csrf()
    reply = await portal.post(
        f"/api/v1/inquiries/{choice.inquiry_id}/messages",
        {"direction": "outbound", "body": "We will cancel it today.", "staff": "agent@shop"},
    )
    assert reply.status_code in (200, 201), reply.text
    late = await portal.client.post(
        order.choice_path, data={"alternative": "pickup_point", "csrf_token": csrf}
    )
    assert late.status_code == 409
    assert (await order.delay())["customer_choice"] == "cancel"
    page = (await portal.client.get(f"/t/{order.token}")).text
    assert "Our team is arranging it" in page and 'name="alternative"' not in page
