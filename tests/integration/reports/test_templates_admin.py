"""`/support/templates`: versions, diffs, previews, refused edits; a saved one renders next."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from portal.models import Notification, Order, TemplateVersion
from portal.services.dispatch import Dispatcher, build_channels
from tests.integration.conftest import Portal, order_body

ES_CONFIRMATION = "/support/templates/order_confirmation/email/es"
ES_SMS = "/support/templates/delivery/sms/es"
NEW_LINE = "Gracias por confiar en nosotros otra vez."


def _parts(page: str) -> dict[str, str]:
    found = {}
    for name in ("subject", "txt", "html"):
        match = re.search(
            rf'<textarea id="part-{name}" name="{name}"[^>]*>(.*?)</textarea>', page, re.S
        )
        if match:
            found[name] = html.unescape(match.group(1))
    return found


async def _rows(portal: Portal, model: Any, *where: Any) -> list[Any]:
    async with portal.runtime.db.read() as session:
        return list((await session.execute(select(model).where(*where))).scalars())


async def test_agents_may_not_edit_templates(agent: Any) -> None:
    assert (await agent.get("/support/templates")).status_code == 403
    assert (await agent.get(ES_CONFIRMATION)).status_code == 403
    answer = await agent.post_form(ES_CONFIRMATION, {"action": "save", "subject": "x"})
    assert answer.status_code == 403


async def test_the_list_and_a_shipped_version(admin: Any) -> None:
    listing = await admin.get("/support/templates")
    assert listing.status_code == 200
    assert f'href="{ES_CONFIRMATION}"' in listing.text
    page = await admin.get(ES_CONFIRMATION)
    assert page.status_code == 200
    assert "shipped with the portal" in page.text
    assert "Save as version 2" in page.text
    # The version in use in every locale, rendered with the sample order.
    assert "<summary>en: version 1</summary>" in page.text
    assert "<summary>es: version 1</summary>" in page.text
    assert "Thank you for your order" in page.text or "order A1001" in page.text
    assert (await admin.get("/support/templates/nope/email/es")).status_code == 404


async def test_an_edit_that_drops_the_portal_link_is_refused(portal: Portal, admin: Any) -> None:
    parts = _parts((await admin.get(ES_SMS)).text)
    assert "{{ portal_url }}" in parts["txt"] or "{{ feedback_url }}" in parts["txt"]
    broken = {"txt": "{{ shop_name }}: su pedido {{ order_number }} ha sido entregado."}
    answer = await admin.post_form(ES_SMS, {**broken, "action": "save"})
    assert answer.status_code == 422
    assert "cannot be saved" in answer.text
    assert "does not show the checked portal link" in answer.text
    assert await _rows(portal, TemplateVersion) == []
    # An optional field used without a guard is refused too: many orders lack it.
    unguarded = {"txt": parts["txt"] + " {{ compensation }}", "action": "save"}
    answer = await admin.post_form(ES_SMS, unguarded)
    assert answer.status_code == 422 and "compensation" in answer.text
    # A template that does not compile.
    answer = await admin.post_form(ES_SMS, {"txt": parts["txt"] + " {% if %}", "action": "save"})
    assert answer.status_code == 422
    assert await _rows(portal, TemplateVersion) == []


async def test_preview_in_spanish_with_a_real_order(portal: Portal, admin: Any) -> None:
    order = await portal.create_order(**{"customer": {**order_body()["customer"], "locale": "es"}})
    parts = _parts((await admin.get(ES_CONFIRMATION)).text)
    parts["txt"] += "\n" + NEW_LINE
    answer = await admin.post_form(
        ES_CONFIRMATION, {**parts, "action": "preview", "order_number": order["order_number"]}
    )
    assert answer.status_code == 200
    assert "Preview (es, " + order["order_number"] in answer.text
    assert NEW_LINE in answer.text and "Blue mug" in answer.text
    assert "/t/preview-link" in answer.text  # a stand-in: previews make no share link
    assert await _rows(portal, TemplateVersion) == []
    sample = await admin.post_form(ES_CONFIRMATION, {**parts, "action": "preview"})
    assert "the sample order" in sample.text and "Ada Lovelace" in sample.text


async def test_a_saved_version_renders_the_next_notice(portal: Portal, admin: Any) -> None:
    page = await admin.get(ES_CONFIRMATION)
    parts = _parts(page.text)
    parts["txt"] += "\n" + NEW_LINE
    saved = await admin.post_form(ES_CONFIRMATION, {**parts, "action": "save"})
    assert saved.status_code == 303
    assert saved.headers["location"] == ES_CONFIRMATION + "?saved=2"
    rows = await _rows(portal, TemplateVersion)
    assert {(r.part, r.version, r.created_by) for r in rows} == {
        (p, 2, admin.email) for p in ("subject", "txt", "html")
    }

    es = await portal.create_order(**{"customer": {**order_body()["customer"], "locale": "es-MX"}})
    en = await portal.create_order()
    [es_mail] = await _notices(portal, es["order_number"])
    [en_mail] = await _notices(portal, en["order_number"])
    assert es_mail.template_version == 2 and NEW_LINE in es_mail.body
    assert en_mail.template_version == 1 and NEW_LINE not in en_mail.body

    # Sent, the notice counts beside its version.
    async with build_channels(portal.runtime.settings) as channels:
        dispatcher = Dispatcher(
            portal.runtime.db, portal.runtime.settings, channels, clock=portal.clock, name="t"
        )
        assert await dispatcher.run_once() >= 2
    page = await admin.get(ES_CONFIRMATION + "?saved=2")
    assert "Saved as version 2" in page.text
    row = re.search(r'<th scope="row">2</th>(.*?)</tr>', page.text, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert cells[0] == admin.email and cells[2] == "txt" and cells[3] == "1"
    assert "+" + NEW_LINE in page.text  # the diff from version 1


async def _notices(portal: Portal, number: str) -> list[Notification]:
    [order] = await _rows(portal, Order, col(Order.order_number) == number)
    return await _rows(
        portal,
        Notification,
        col(Notification.order_id) == order.id,
        col(Notification.kind) == "order_confirmation",
        col(Notification.channel) == "email",
    )


async def test_a_preview_is_about_what_a_notice_of_its_kind_is_about(
    portal: Portal, admin: Any
) -> None:
    # The carrier's estimate is on the shipment; a delay without a new date is on the order.
    # Only a delay notice is about the delay (as in the outbox): a shipping notice still
    # states the shipment's estimate, a delay notice does not.
    number = (await portal.create_order())["order_number"]
    base = f"/api/v1/orders/{number}"
    estimate = (date.today() + timedelta(days=9)).isoformat()
    shipped = await portal.post(
        base + "/shipments",
        {"carrier": "dhl", "tracking_number": "JD014600005555", "estimated_delivery": estimate},
    )
    assert shipped.status_code == 201, shipped.text
    delayed = await portal.post(base + "/delays", {"reason_code": "weather", "message": "Snow"})
    assert delayed.status_code == 201, delayed.text
    stated = {}
    for kind in ("shipping", "delay"):
        page = f"/support/templates/{kind}/email/en"
        parts = _parts((await admin.get(page)).text)
        parts["txt"] += "\nETA[{{ estimated_delivery }}]"
        answer = await admin.post_form(page, {**parts, "action": "preview", "order_number": number})
        assert answer.status_code == 200
        stated[kind] = re.findall(r"ETA\[([^]{]*)\]", answer.text)
    assert stated["shipping"] == [estimate]
    assert estimate not in stated["delay"]
