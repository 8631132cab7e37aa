"""A customer's notices from order to delivery, sent through real SMTP and HTTP SMS servers."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlsplit

from carriers.links import tracking_url
from tests.integration.notifications.conftest import (
    PHONE,
    REVIEW_URL,
    SID,
    SMS_FROM,
    TOKEN,
    Harness,
    days,
    html_of,
    long_date,
    text_of,
)
from tests.integration.webhook_helpers import send_generic

UPS_NUMBER = "1Z999AA10123456784"


async def test_confirmation_by_email_and_sms(harness: Harness) -> None:
    order = await harness.create_order()
    number, portal_url = order["order_number"], order["tracking_url"]
    pending = await harness.rows(number)
    assert [(r.kind, r.channel, r.state) for r in pending] == [
        ("order_confirmation", "email", "pending"),
        ("order_confirmation", "sms", "pending"),
    ]

    assert await harness.drain() == 2

    [mail] = harness.smtp.messages
    assert harness.smtp.envelopes[0].rcpt_tos == ["ada@example.com"]
    assert harness.smtp.envelopes[0].mail_from == "no-reply@shop.example"
    assert mail["To"] == "ada@example.com"
    assert number in str(mail["Subject"])
    text = text_of(mail)
    assert number in text
    assert "2 x Blue mug" in text and "1 x Tea" in text
    assert long_date(date.fromisoformat(order["promised_ship_by"])) in text
    assert long_date(date.fromisoformat(order["promised_deliver_by"])) in text
    assert portal_url in text and f'href="{portal_url}"' in html_of(mail)
    assert str(mail["List-Unsubscribe"]).strip() == f"<{portal_url}/unsubscribe>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    email_row = await harness.row(number, "order_confirmation", "email")
    assert mail["Message-ID"] == email_row.provider_id

    # The link in the email opens the customer's tracking page.
    page = await harness.client.get(urlsplit(portal_url).path)
    assert page.status_code == 200
    assert number in page.text

    [form] = harness.sms.received
    assert form["To"] == PHONE and form["From"] == SMS_FROM
    assert number in form["Body"] and portal_url in form["Body"]
    assert set(form) == {"To", "From", "Body"}
    assert harness.sms.auth == [(SID, TOKEN)]

    rows = await harness.rows(number)
    assert {r.state for r in rows} == {"sent"}
    assert all(r.attempts == 1 and r.sent_at == harness.clock() for r in rows)
    sms_row = await harness.row(number, "order_confirmation", "sms")
    assert sms_row.provider_id == f"SM{1:032d}"

    # Sent once: another round finds nothing due.
    assert await harness.drain() == 0
    assert len(harness.smtp.messages) == 1 and len(harness.sms.received) == 1


async def test_shipping_delay_and_delivery_notices(harness: Harness) -> None:
    order = await harness.create_order()
    number, portal_url = order["order_number"], order["tracking_url"]
    await harness.drain()
    base = f"/api/v1/orders/{number}"

    # Shipping.
    await harness.post(
        base + "/shipments",
        {"carrier": "ups", "tracking_number": UPS_NUMBER, "estimated_delivery": days(4)},
    )
    assert await harness.drain() == 2
    [mail] = harness.smtp.with_subject("has shipped")
    carrier_link = tracking_url("ups", UPS_NUMBER)
    assert carrier_link is not None and UPS_NUMBER in carrier_link
    text = text_of(mail)
    assert number in str(mail["Subject"])
    assert "Carrier: UPS" in text and f"Tracking number: {UPS_NUMBER}" in text
    assert carrier_link in text and f'href="{carrier_link}"' in html_of(mail)
    shipping_row = await harness.row(number, "shipping", "email")
    shipped_portal_url = json.loads(shipping_row.facts)["portal_url"]
    assert shipped_portal_url in text
    assert (await harness.client.get(urlsplit(shipped_portal_url).path)).status_code == 200
    shipping_sms = harness.sms.bodies()[-1]
    assert UPS_NUMBER in shipping_sms and carrier_link in shipping_sms and number in shipping_sms

    # A delay: an email with the reason, the new date, the offer; and a call task for support.
    new_eta = days(7)
    await harness.post(
        base + "/delays",
        {
            "reason_code": "weather",
            "message": "Snow closed the depot",
            "new_estimated_delivery": new_eta,
            "compensation": "10% refund of shipping",
            "alternatives": ["pickup_point", "cancel"],
        },
    )
    assert await harness.drain() == 2
    [mail] = harness.smtp.with_subject("is delayed")
    text = text_of(mail)
    assert "Snow closed the depot" in text
    assert "Reason: Bad weather." in text
    assert f"New estimated delivery: {long_date(date.fromisoformat(new_eta))}" in text
    assert "10% refund of shipping" in text
    assert "Collect the parcel from a pickup point" in text
    assert "Cancel the order for a full refund" in text
    phone_row = await harness.row(number, "delay", "phone")
    assert phone_row.state == "sent" and phone_row.recipient == PHONE
    [call] = await harness.calls()
    assert call["to"] == PHONE and call["id"] == phone_row.provider_id
    assert number in call["script"] and "bad weather" in call["script"]
    # No voice provider is configured: nothing was posted to place a call.
    assert all("Twiml" not in form for form in harness.sms.received)
    assert len(harness.sms.received) == 2

    # Delivery, from a signed carrier webhook.
    answer = await send_generic(
        harness.portal, UPS_NUMBER, "delivered", "Left at the door", carrier="ups"
    )
    assert answer.status_code in (200, 202), answer.text
    status = (await harness.portal.get(base)).json()["status"]
    assert status == "delivered"
    assert await harness.drain() == 2
    [mail] = harness.smtp.with_subject("delivered")
    text = text_of(mail)
    delivery_row = await harness.row(number, "delivery", "email")
    delivered_portal_url = json.loads(delivery_row.facts)["portal_url"]
    assert f"{delivered_portal_url}#feedback" in text
    # The review link goes through the portal's counted redirect, on to PORTAL_REVIEW_URL.
    review = harness.settings.url(f"/review/{number}/")
    assert review in text and f'href="{review}' in html_of(mail)
    assert REVIEW_URL not in text
    [review_link] = [word for word in text.split() if word.startswith(review)]
    followed = await harness.client.get(urlsplit(review_link).path + "?via=notice")
    assert followed.status_code == 303 and followed.headers["location"] == REVIEW_URL
    assert f"{delivered_portal_url}#feedback" in harness.sms.bodies()[-1]
    page = await harness.client.get(urlsplit(delivered_portal_url).path)
    assert page.status_code == 200

    rows = await harness.rows(number)
    assert {r.state for r in rows} == {"sent"}, [(r.kind, r.channel, r.state) for r in rows]
    assert len(harness.smtp.messages) == 4 and len(harness.sms.received) == 3
    assert portal_url  # the confirmation's link stays valid alongside the later ones


async def test_api_lists_notifications(harness: Harness) -> None:
    order = await harness.create_order()
    number = order["order_number"]
    await harness.drain()
    await harness.post(f"/api/v1/orders/{number}/status", {"status": "processing"})

    answer = await harness.portal.get(f"/api/v1/orders/{number}/notifications")
    assert answer.status_code == 200
    listed = answer.json()["notifications"]
    wanted = {
        "kind",
        "channel",
        "recipient",
        "state",
        "template_version",
        "subject",
        "body",
        "attempts",
        "created_at",
        "sent_at",
    }
    for item in listed:
        assert wanted <= set(item)
    summary = [(n["kind"], n["channel"], n["recipient"], n["state"]) for n in listed]
    assert summary == [
        ("order_confirmation", "email", "ada@example.com", "sent"),
        ("order_confirmation", "sms", PHONE, "sent"),
        ("status_update", "email", "ada@example.com", "pending"),
    ]
    sent, _, pending = listed
    stamp = harness.clock().isoformat().replace("+00:00", "Z")
    assert sent["template_version"] == 1 and sent["attempts"] == 1
    assert sent["created_at"] == stamp and sent["sent_at"] == stamp
    assert number in sent["subject"] and order["tracking_url"] in sent["body"]
    assert pending["attempts"] == 0 and pending["sent_at"] is None
    assert "being prepared" in pending["subject"]
    assert listed[1]["subject"] == "" and number in listed[1]["body"]

    unknown = await harness.portal.get("/api/v1/orders/NOPE-1/notifications")
    assert unknown.status_code == 404
    anonymous = await harness.client.get(f"/api/v1/orders/{number}/notifications")
    assert anonymous.status_code == 401
