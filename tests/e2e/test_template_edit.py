"""An admin edits a template in Chromium, previews it in Spanish, saves; the next notice uses it."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.axe import assert_no_serious_axe_violations
from tests.e2e.conftest import PortalProcess
from tests.e2e.staff_helpers import create_staff_user, sign_in

NEW_LINE = "Gracias por confiar en nosotros otra vez."


def test_edit_preview_save_and_the_next_notice(page: Any, portal_server: PortalProcess) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    email = create_staff_user(portal_server, "admin")
    sign_in(page, portal_server, email)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Templates").click()
    page.wait_for_url("**/support/templates")
    row = page.get_by_role("row").filter(has_text="email").filter(has_text="es")
    row.filter(has=page.get_by_role("rowheader", name="order confirmation")).get_by_role(
        "link"
    ).click()
    page.wait_for_url("**/support/templates/order_confirmation/email/es")

    text = page.get_by_label("Text", exact=True)
    text.fill(text.input_value() + "\n" + NEW_LINE)
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview (es, the sample order)")
    assert preview.is_visible()
    assert NEW_LINE in preview.locator(".preview-text").inner_text()
    assert "Hola" in preview.inner_text() or "pedido" in preview.inner_text()

    assert_no_serious_axe_violations(page)
    page.get_by_role("button", name="Save as version 2").click()
    # The form posts to "#edit": the browser keeps that fragment across the redirect.
    page.wait_for_url(re.compile(r"/support/templates/order_confirmation/email/es\?saved=2"))
    assert page.get_by_role("status").inner_text().startswith("Saved as version 2")
    assert page.get_by_role("rowheader", name="2", exact=True).is_visible()

    order = portal_server.create_order(
        "E2ET1",
        customer={
            "name": "Ana",
            "email": "ana@example.com",
            "locale": "es",
            "timezone": "Europe/Madrid",
        },
    )
    listed = portal_server.api("GET", f"/api/v1/orders/{order['order_number']}/notifications")
    [mail] = [
        n
        for n in listed.json()["notifications"]
        if n["kind"] == "order_confirmation" and n["channel"] == "email"
    ]
    assert mail["template_version"] == 2
    assert NEW_LINE in mail["body"]
    assert errors == []
