"""The support console in Chromium: sign in, the shell, sign out."""

from __future__ import annotations

from typing import Any

from tests.e2e.axe import assert_no_serious_axe_violations
from tests.e2e.conftest import PortalProcess
from tests.e2e.staff_helpers import create_staff_user, sign_in


def test_sign_in_and_out(page: Any, portal_server: PortalProcess) -> None:
    email = create_staff_user(portal_server, "agent")
    page.goto(portal_server.base_url + "/support")
    assert "/support/login" in page.url
    sign_in(page, portal_server, email)
    assert page.get_by_text(f"Signed in as {email}").is_visible()
    nav = page.get_by_role("navigation", name="Console")
    assert nav.get_by_role("link", name="Queue").get_attribute("aria-current") == "page"
    assert nav.get_by_role("link", name="Staff").count() == 0
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(portal_server.base_url + "/support/login")
    page.goto(portal_server.base_url + "/support")
    assert "/support/login" in page.url


def test_find_an_order_by_tracking_number(page: Any, portal_server: PortalProcess) -> None:
    portal_server.create_order("E2E-FIND-1")
    portal_server.create_order("E2E-OTHER-2")
    shipped = portal_server.api(
        "POST",
        "/api/v1/orders/E2E-FIND-1/shipments",
        {"carrier": "ups", "tracking_number": "1Z999AA10123456784"},
    )
    assert shipped.status_code == 201, shipped.text
    email = create_staff_user(portal_server, "agent")
    sign_in(page, portal_server, email)
    page.get_by_label("Search orders").fill("1z999aa1012")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/support/orders?q=*")
    results = page.get_by_role("table")
    link = results.get_by_role("link", name="E2E-FIND-1")
    assert link.get_attribute("href") == "/support/orders/E2E-FIND-1"
    assert results.get_by_role("link", name="E2E-OTHER-2").count() == 0
    assert results.get_by_text("1Z999AA10123456784").is_visible()


def test_console_pages_pass_axe(page: Any, portal_server: PortalProcess) -> None:
    portal_server.create_order("E2E-AXE-1")
    page.goto(portal_server.base_url + "/support/login")
    assert_no_serious_axe_violations(page)
    page.get_by_label("Email").fill("nobody@shop.example")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").wait_for()
    assert_no_serious_axe_violations(page)  # the form with its error
    email = create_staff_user(portal_server, "admin")
    sign_in(page, portal_server, email)
    assert_no_serious_axe_violations(page)  # home
    page.goto(portal_server.base_url + "/support/orders?q=Lovelace")
    assert page.get_by_role("link", name="E2E-AXE-1").is_visible()
    assert_no_serious_axe_violations(page)  # search results
    page.goto(portal_server.base_url + "/support/orders?q=no-such-order")
    assert_no_serious_axe_violations(page)
    page.goto(portal_server.base_url + "/support/staff")
    assert_no_serious_axe_violations(page)


def test_admin_adds_a_user_who_sets_a_password(page: Any, portal_server: PortalProcess) -> None:
    admin = create_staff_user(portal_server, "admin")
    sign_in(page, portal_server, admin)
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Staff").click()
    page.get_by_label("Email").fill("fresh.agent@shop.example")
    page.get_by_label("Role").select_option("agent")
    page.get_by_role("button", name="Add and make a set-password link").click()
    link = page.get_by_role("textbox", name="Set-password link").input_value()
    assert "/support/reset/" in link
    assert_no_serious_axe_violations(page)
    page.get_by_role("button", name="Sign out").click()
    page.goto(link)
    assert_no_serious_axe_violations(page)
    page.get_by_label("New password (at least 10 characters)").fill("a fresh passphrase")
    page.get_by_label("Repeat the password").fill("a fresh passphrase")
    page.get_by_role("button", name="Set password").click()
    page.get_by_text("Your password is set.").wait_for()
    sign_in(page, portal_server, "fresh.agent@shop.example", "a fresh passphrase")
    assert page.get_by_text("Signed in as fresh.agent@shop.example").is_visible()
