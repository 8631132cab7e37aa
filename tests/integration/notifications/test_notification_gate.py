"""The accuracy gate at send time: superseded notices, quiet hours, opt-outs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.integration.notifications.conftest import PHONE, Harness, days
from tests.integration.webhook_helpers import send_generic

DHL_NUMBER = "JD014600003828"


async def test_a_status_update_overtaken_by_the_next_is_superseded(harness: Harness) -> None:
    order = await harness.create_order()
    number = order["order_number"]
    base = f"/api/v1/orders/{number}"
    await harness.drain()

    await harness.post(base + "/status", {"status": "processing"})
    await harness.post(base + "/status", {"status": "packed"})  # before the dispatcher ran
    assert await harness.drain() == 2

    processing = [r for r in await harness.rows(number) if r.milestone == "processing"]
    assert [(r.channel, r.state) for r in processing] == [("email", "superseded")]
    assert processing[0].blocked_reason is not None
    assert processing[0].blocked_reason.startswith("overtaken:")
    assert processing[0].sent_at is None and processing[0].provider_id is None
    packed = await harness.row(number, "status_update", "email", "packed")
    assert packed.state == "sent"
    assert harness.smtp.with_subject("being prepared") == []
    assert len(harness.smtp.with_subject("packed and ready to ship")) == 1


async def test_out_for_delivery_sms_is_not_sent_once_delivered(harness: Harness) -> None:
    order = await harness.create_order()
    number = order["order_number"]
    base = f"/api/v1/orders/{number}"
    await harness.post(base + "/shipments", {"carrier": "dhl", "tracking_number": DHL_NUMBER})
    assert await harness.drain() == 4
    sms_before = len(harness.sms.received)

    answer = await send_generic(harness.portal, DHL_NUMBER, "out_for_delivery", "On the van")
    assert answer.status_code in (200, 202), answer.text
    out = [r for r in await harness.rows(number) if r.milestone == "out_for_delivery"]
    assert sorted((r.channel, r.state) for r in out) == [("email", "pending"), ("sms", "pending")]

    harness.clock.advance(minutes=30)
    answer = await send_generic(harness.portal, DHL_NUMBER, "delivered", "Left at the door")
    assert answer.status_code in (200, 202), answer.text
    assert await harness.drain() == 4

    out = [r for r in await harness.rows(number) if r.milestone == "out_for_delivery"]
    assert {r.state for r in out} == {"superseded"}
    assert all((r.blocked_reason or "").startswith("already_delivered:") for r in out)
    new_sms = harness.sms.bodies()[sms_before:]
    assert len(new_sms) == 1 and "delivered" in new_sms[0]
    assert not any("out for delivery" in body for body in harness.sms.bodies())
    assert harness.smtp.with_subject("out for delivery") == []
    delivered = [r for r in await harness.rows(number) if r.milestone == "delivered"]
    assert {(r.channel, r.state) for r in delivered} == {("email", "sent"), ("sms", "sent")}


async def test_sms_waits_for_the_end_of_quiet_hours_email_does_not(harness: Harness) -> None:
    order = await harness.create_order(hour=23)  # 23:xx where the customer lives
    number = order["order_number"]
    now = harness.clock()
    email = await harness.row(number, "order_confirmation", "email")
    sms = await harness.row(number, "order_confirmation", "sms")
    zone = ZoneInfo(harness.zones[number])
    local = now.astimezone(zone)
    assert local.hour >= 21 or local.hour < 8
    end = datetime.combine(local.date() + timedelta(days=1), time(8, 0), tzinfo=zone)
    assert email.due_at == now
    assert sms.due_at == end.astimezone(UTC)

    assert await harness.drain() == 1
    assert len(harness.smtp.messages) == 1 and harness.sms.received == []
    assert (await harness.row(number, "order_confirmation", "sms")).state == "pending"

    harness.clock.now = sms.due_at - timedelta(seconds=1)
    assert await harness.drain() == 0
    harness.clock.now = sms.due_at
    assert await harness.drain() == 1
    assert len(harness.sms.received) == 1
    assert (await harness.row(number, "order_confirmation", "sms")).state == "sent"


async def test_daytime_sms_goes_at_once(harness: Harness) -> None:
    order = await harness.create_order(hour=8)
    sms = await harness.row(order["order_number"], "order_confirmation", "sms")
    assert sms.due_at == harness.clock()


async def test_one_click_unsubscribe_stops_email_not_sms(harness: Harness) -> None:
    order = await harness.create_order()
    number, portal_url = order["order_number"], order["tracking_url"]
    base = f"/api/v1/orders/{number}"

    # The mail client's one-click unsubscribe (RFC 8058), before the confirmation went out.
    answer = await harness.client.post(
        urlsplit(portal_url).path + "/unsubscribe",
        data={"List-Unsubscribe": "One-Click"},
    )
    assert answer.status_code == 200

    await harness.post(base + "/status", {"status": "processing"})
    await harness.post(base + "/shipments", {"carrier": "dhl", "tracking_number": DHL_NUMBER})
    await harness.drain()

    rows = await harness.rows(number)
    for row in rows:
        if row.channel == "email":
            assert row.state in ("blocked", "superseded"), (row.kind, row.state)
            assert row.sent_at is None
    confirmation = await harness.row(number, "order_confirmation", "email")
    assert (confirmation.blocked_reason or "").startswith("opted_out:")
    assert harness.smtp.messages == []

    sms = sorted((r.kind, r.state) for r in rows if r.channel == "sms")
    assert sms == [("order_confirmation", "sent"), ("shipping", "sent")]
    assert [form["To"] for form in harness.sms.received] == [PHONE, PHONE]
    assert sum(DHL_NUMBER in body for body in harness.sms.bodies()) == 1

    # The delay still reaches the customer, by phone, though not by email.
    await harness.post(
        base + "/delays",
        {"reason_code": "weather", "message": "Snow", "new_estimated_delivery": days(9)},
    )
    await harness.drain()
    assert harness.smtp.messages == []
    assert [c["to"] for c in await harness.calls()] == [PHONE]


async def _shipped_due_in_three_days(harness: Harness, **order: Any) -> str:
    """An order shipped with DHL, estimated in three days, its notices sent; its number."""
    number = str((await harness.create_order(**order))["order_number"])
    await harness.post(
        f"/api/v1/orders/{number}/shipments",
        {"carrier": "dhl", "tracking_number": DHL_NUMBER, "estimated_delivery": days(3)},
    )
    await harness.drain()
    return number


async def test_a_late_delivery_is_still_announced(harness: Harness) -> None:
    # The parcel arrives days after its estimated date: the delivery notice states no estimate,
    # so a passed estimate must not block it.
    number = await _shipped_due_in_three_days(harness)
    harness.clock.advance(days=12)
    answer = await send_generic(harness.portal, DHL_NUMBER, "delivered", "Finally delivered")
    assert answer.status_code in (200, 202), answer.text
    await harness.drain()
    delivered = [r for r in await harness.rows(number) if r.milestone == "delivered"]
    assert {(r.channel, r.state) for r in delivered} == {("email", "sent"), ("sms", "sent")}, [
        (r.channel, r.state, r.blocked_reason) for r in delivered
    ]
    assert len(harness.smtp.with_subject("delivered")) == 1


@pytest.mark.parametrize("passed", [True, False])
@pytest.mark.parametrize("locale", ["en", "es"])
async def test_a_delay_without_a_new_date_says_it_is_not_known_yet(
    harness: Harness, locale: str, passed: bool
) -> None:
    customer = {"name": "Ada Lovelace", "email": "ada@example.com", "locale": locale}
    number = await _shipped_due_in_three_days(harness, customer=customer)
    base = f"/api/v1/orders/{number}"
    if passed:
        harness.clock.advance(days=12)  # the estimate passed; the carrier has no new one yet
    await harness.post(base + "/delays", {"reason_code": "weather", "message": "Snow"})
    await harness.drain()

    delay = [r for r in await harness.rows(number) if r.kind == "delay"]
    assert {(r.channel, r.state) for r in delay} == {("email", "sent"), ("phone", "sent")}, [
        (r.channel, r.state, r.blocked_reason) for r in delay
    ]
    email = next(r for r in delay if r.channel == "email")
    promise = {
        "en": "We will tell you the new date as soon as the carrier confirms it.",
        "es": "Le diremos la nueva fecha en cuanto la confirme el transportista.",
    }[locale]
    assert promise in email.body
    # The estimate the delay overturns is not offered as its new date.
    assert json.loads(email.facts)["eta"] is None
    [call] = [c for c in await harness.calls() if "Snow" in c["script"]]
    assert "confirm" in call["script"]
