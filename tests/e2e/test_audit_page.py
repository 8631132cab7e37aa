"""The audit page in a browser: the server's scheduled run shows, and the page is axe-clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.axe import assert_no_serious_axe_violations
from tests.e2e.conftest import PortalProcess
from tests.e2e.staff_helpers import create_staff_user, sign_in


@pytest.fixture
def audited_server(tmp_path: Path) -> Iterator[PortalProcess]:
    server = PortalProcess(tmp_path / "instance", {"PORTAL_AUDIT_INTERVAL": "1"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_agent_reads_the_audit(audited_server: PortalProcess, page: Page) -> None:
    audited_server.create_order("AUD-1")
    sign_in(page, audited_server, create_staff_user(audited_server, "agent"))
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit", level=1)).to_be_visible()
    for _ in range(20):  # the server audits every second; wait for a finished run
        if "finished" in page.locator("main").inner_text():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(page.locator("main")).to_contain_text("0 found: 0 new, 0 resolved")
    expect(page.get_by_text("No open findings.")).to_be_visible()
    assert_no_serious_axe_violations(page)
