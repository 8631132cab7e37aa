"""The support console in Chromium: sign in, the shell, sign out."""

from __future__ import annotations

from typing import Any

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
