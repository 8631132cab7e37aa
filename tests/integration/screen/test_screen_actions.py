"""The order screen's actions: each does its work and logs itself in the CRM log."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from portal.models import Delay, Notification, ShareLink
from portal.models_screen import CallTask
from tests.integration.conftest import Portal
from tests.integration.screen.screen_helpers import (
    crm_of,
    drain,
    notifications_of,
    order_row,
    shipped_order,
)

LOGGED = {
    "channel": "phone",
    "direction": "inbound",
    "outcome": "answered",
    "summary": "Asked where the parcel is",
    "duration_s": "125",
}


async def test_log_an_interaction(portal: Portal, agent: Any) -> None:
    number, _, _ = await shipped_order(portal)
    answer = await agent.post_form(f"/support/orders/{number}/interactions", LOGGED)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/support/orders/{number}?done=logged"
    [entry] = await crm_of(portal, number)
    assert (entry.channel, entry.direction, entry.outcome) == ("phone", "inbound", "answered")
    assert entry.summary == "Asked where the parcel is" and entry.duration_s == 125
    assert entry.staff == agent.email and entry.staff_user_id == agent.user.id
    assert entry.action == "logged" and entry.order_status == "in_transit"
    assert entry.order_eta is not None
    page = (await agent.get(answer.headers["location"])).text
    assert "The interaction was logged." in page and "Asked where the parcel is" in page
    # With htmx: a fragment, the form is cleared by the page.
    htmx = await agent.post_form(
        f"/support/orders/{number}/interactions", LOGGED, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 200 and "was logged" in htmx.text and "<html" not in htmx.text


async def test_a_bad_interaction_is_refused_and_nothing_logged(portal: Portal, agent: Any) -> None:
    number, _, _ = await shipped_order(portal)
    bad = {**LOGGED, "channel": "fax", "summary": " ", "duration_s": "-3"}
    answer = await agent.post_form(f"/support/orders/{number}/interactions", bad)
    assert answer.status_code == 422
    assert "channel: choose one of" in answer.text and "summary: say what" in answer.text
    assert "duration_s: a whole number" in answer.text
    assert await crm_of(portal, number) == []
    no_token = await agent.client.post(f"/support/orders/{number}/interactions", data=LOGGED)
    assert no_token.status_code == 403
    assert await crm_of(portal, number) == []


async def test_a_callback_request_becomes_a_call_task(portal: Portal, agent: Any) -> None:
    number, _, _ = await shipped_order(portal)
    order = await order_row(portal, number)
    later = portal.clock() + timedelta(hours=3)
    local = later.astimezone(ZoneInfo(order.timezone))
    form = {
        **LOGGED,
        "outcome": "callback_requested",
        "callback_at": local.strftime("%Y-%m-%dT%H:%M"),
    }
    assert (
        await agent.post_form(f"/support/orders/{number}/interactions", form)
    ).status_code == 303
    async with portal.runtime.db.read() as session:
        [task] = (await session.execute(select(CallTask))).scalars().all()
    assert task.reason == "callback" and task.phone == "+14155552671" and task.state == "open"
    assert abs((task.due_at - later.replace(second=0)).total_seconds()) < 60


async def test_create_a_link_shown_once_then_revoke_it(portal: Portal, agent: Any) -> None:
    number, _, _ = await shipped_order(portal)
    made = await agent.post_form(f"/support/orders/{number}/links", {"expires_in_days": "7"})
    assert made.status_code == 201
    found = re.search(r'id="new-link-url" type="text" readonly value="([^"]+)"', made.text)
    assert found is not None
    url = found.group(1)
    token = url.rsplit("/", 1)[1]
    assert 'data-copy="new-link-url"' in made.text
    assert (await portal.client.get(f"/t/{token}")).status_code == 200
    again = (await agent.get(f"/support/orders/{number}")).text
    assert token not in again  # shown once
    async with portal.runtime.db.read() as session:
        link = (
            (
                await session.execute(select(ShareLink).order_by(ShareLink.id.desc()))  # type: ignore[attr-defined]
            )
            .scalars()
            .first()
        )
    assert link is not None and link.created_by == agent.email and link.expires_at is not None

    revoked = await agent.post_form(f"/support/orders/{number}/links/{link.id}/revoke")
    assert revoked.status_code == 303
    assert (await portal.client.get(f"/t/{token}")).status_code == 404
    actions = [entry.action for entry in await crm_of(portal, number)]
    assert actions == ["link_created", "link_revoked"]
    other = await agent.post_form(f"/support/orders/{number}/links/999999/revoke")
    assert other.status_code == 404


async def test_resend_makes_a_new_row_naming_the_original(portal: Portal, agent: Any) -> None:
    number, _, _ = await shipped_order(portal)
    await drain(portal)
    rows = await notifications_of(portal, number)
    original = next(r for r in rows if r.kind == "shipping" and r.channel == "email")
    assert original.state == "sent"
    answer = await agent.post_form(
        f"/support/orders/{number}/notifications/{original.id}/resend",
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200 and "queued again" in answer.text
    [copy] = [r for r in await notifications_of(portal, number) if r.resend_of == original.id]
    assert copy.state == "pending" and copy.body == original.body
    assert copy.recipient == original.recipient and copy.idempotency_key.endswith(":resend:1")
    await drain(portal)
    [copy] = [r for r in await notifications_of(portal, number) if r.resend_of == original.id]
    assert copy.state == "sent"
    assert [e.action for e in await crm_of(portal, number)] == ["notification_resent"]
    # The resend, sent by now, may go again; a notice still waiting to go may not.
    again = await agent.post_form(f"/support/orders/{number}/notifications/{copy.id}/resend")
    assert again.status_code == 303
    [waiting] = [r for r in await notifications_of(portal, number) if r.state == "pending"]
    assert waiting.resend_of == copy.id
    refused = await agent.post_form(f"/support/orders/{number}/notifications/{waiting.id}/resend")
    assert refused.status_code == 409


async def test_resend_goes_through_the_gate(portal: Portal, agent: Any) -> None:
    number, _, _ = await shipped_order(portal)
    await drain(portal)
    original = next(r for r in await notifications_of(portal, number) if r.kind == "shipping")
    async with portal.runtime.db.write() as session:
        link = await session.get(ShareLink, original.portal_link_id)
        assert link is not None
        link.revoked_at = portal.clock()
    answer = await agent.post_form(f"/support/orders/{number}/notifications/{original.id}/resend")
    assert answer.status_code == 303
    [copy] = [r for r in await notifications_of(portal, number) if r.resend_of == original.id]
    assert copy.state == "blocked" and "portal_link" in (copy.blocked_reason or "")


DELAY = {
    "reason_code": "weather",
    "message": "Snow closed the depot",
    "compensation": "Free shipping next time",
}


async def _counts(portal: Portal) -> tuple[int, int]:
    async with portal.runtime.db.read() as session:
        delays = (await session.execute(select(func.count()).select_from(Delay))).scalar_one()
        notes = (await session.execute(select(func.count()).select_from(Notification))).scalar_one()
    return int(delays), int(notes)


async def test_delay_preview_keeps_nothing_then_send(portal: Portal, agent: Any) -> None:
    number, _, _ = await shipped_order(portal)
    before = await _counts(portal)
    new_eta = (portal.clock().date() + timedelta(days=6)).isoformat()
    form = {**DELAY, "new_estimated_delivery": new_eta, "alternatives": ["pickup_point", "cancel"]}
    preview = await agent.post_form(
        f"/support/orders/{number}/delays/preview", form, headers={"HX-Request": "true"}
    )
    assert preview.status_code == 200, preview.text
    text = preview.text
    assert "What the customer will get" in text and "passes the check, will be sent" in text
    assert "ada@example.com" in text and "+14155552671" in text  # email and phone
    assert "Snow closed the depot" in text and "Free shipping next time" in text
    assert "[tracking link]" in text and "/t/" not in text
    assert await _counts(portal) == before and await crm_of(portal, number) == []

    sent = await agent.post_form(f"/support/orders/{number}/delays", form)
    assert sent.status_code == 303
    delays, notes = await _counts(portal)
    assert delays == before[0] + 1 and notes > before[1]
    [entry] = await crm_of(portal, number)
    assert entry.action == "delay_opened" and "Snow closed the depot" in entry.summary
    assert entry.order_status == "in_transit"
    page = (await agent.get(f"/support/orders/{number}")).text
    assert "Free shipping next time" in page


async def test_a_bad_delay_is_refused_before_any_preview(portal: Portal, agent: Any) -> None:
    number, _, _ = await shipped_order(portal)
    bad = await agent.post_form(
        f"/support/orders/{number}/delays/preview", {**DELAY, "reason_code": "nonsense"}
    )
    assert bad.status_code == 422 and "reason_code" in bad.text
    assert await _counts(portal) == (0, len(await notifications_of(portal, number)))


async def test_an_interaction_names_an_inquiry_of_its_order(portal: Portal, agent: Any) -> None:
    number, _, _ = await shipped_order(portal)
    other, _, _ = await shipped_order(portal)
    made = await portal.post(
        "/api/v1/inquiries",
        {
            "order_number": other,
            "channel": "email",
            "subject": "Where is it?",
            "message": "Hello",
            "priority": "normal",
        },
    )
    assert made.status_code == 201, made.text
    theirs = str(made.json()["id"])
    path = f"/support/orders/{number}/interactions"
    refused = await agent.post_form(path, {**LOGGED, "inquiry_id": theirs})
    assert refused.status_code == 422 and "has no inquiry" in refused.text
    assert "Asked where the parcel is" in refused.text  # the summary typed is kept
    assert await crm_of(portal, number) == []
    mine = await agent.post_form(
        f"/support/orders/{other}/interactions", {**LOGGED, "inquiry_id": theirs}
    )
    assert mine.status_code == 303
    logged = [e for e in await crm_of(portal, other) if e.action == "logged"]
    assert [e.inquiry_id for e in logged] == [int(theirs)]
